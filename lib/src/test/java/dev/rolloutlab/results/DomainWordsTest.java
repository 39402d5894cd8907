package dev.rolloutlab.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.util.Json;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Topologies, connections and strategies: their wire names, the one baseline rule, and names of earlier releases. */
class DomainWordsTest {
    @Test
    void eachHttpTopologyIsMeasuredAgainstTheInProcessOneWithAsManyEngines() {
        var all = EnumSet.allOf(Topology.class);
        assertEquals(Optional.of(Topology.INPROC), Topology.HTTP1.baselineAmong(all));
        assertEquals(Optional.of(Topology.INPROC_N), Topology.HTTP_N.baselineAmong(all));
        assertEquals(Optional.of(Topology.INPROC_N), Topology.LB.baselineAmong(all));
        assertEquals(Optional.empty(), Topology.INPROC.baselineAmong(all));
        // when only the other in-process topology ran, that one is the baseline; with none, there is none
        assertEquals(Optional.of(Topology.INPROC), Topology.LB.baselineAmong(EnumSet.of(Topology.INPROC, Topology.LB)));
        assertEquals(Optional.of(Topology.INPROC_N), Topology.HTTP1.baselineAmong(EnumSet.of(Topology.INPROC_N)));
        assertEquals(Optional.empty(), Topology.HTTP1.baselineAmong(EnumSet.of(Topology.HTTP1, Topology.LB)));
    }

    @Test
    void wireNamesRoundTripThroughJsonAndTheSimSweepsFormerNameStillReads() {
        for (Topology t : Topology.values()) assertEquals(t, Topology.parse(t.wire()));
        assertEquals("\"httpN\"", Json.write(Topology.HTTP_N));
        assertEquals(Topology.HTTP_N, Topology.parse("fanout"));
        assertEquals("\"keep-alive\"", Json.write(Connection.KEEP_ALIVE));
        assertEquals("\"chat\"", Json.write(CompletionRequest.Endpoint.CHAT));
        assertEquals(null, CompletionRequest.Endpoint.parseOrAuto("auto"), "auto: probe the server");
        assertEquals(Optional.empty(), Topology.find("http"), "a label of a foreign run is no topology");
        var e = assertThrows(IllegalArgumentException.class, () -> Topology.parse("grpc"));
        assertTrue(e.getMessage().contains("inproc,inprocN,http1,httpN,lb"), e.getMessage());
    }

    @Test
    void aStrategyHasOneNameInEveryModeAndTheFleetsFormerNamesStillParse() {
        assertEquals(Strategy.PUSH_ALL, Strategy.parse("push-all"));
        assertEquals(Strategy.PUSH_ROLLING, Strategy.parse("rolling"));
        assertEquals(Strategy.PUSH_TREE, Strategy.parse("tree"));
        assertEquals(Strategy.STORAGE_PULL, Strategy.parse("storage"));
        assertTrue(Strategy.isFormerName("tree"));
        assertFalse(Strategy.isFormerName("http-push-tree"));
        assertEquals(
                List.of(
                        Strategy.INPROC_SWAP,
                        Strategy.PUSH_ALL,
                        Strategy.PUSH_ROLLING,
                        Strategy.PUSH_TREE,
                        Strategy.STORAGE_PULL),
                Strategy.fleet());
        assertFalse(Strategy.ownServers().contains(Strategy.PUSH_TREE), "a tree needs hosts that forward");
        for (Strategy s : Strategy.values()) assertEquals(s, Strategy.parse(s.wire()));
    }
}
