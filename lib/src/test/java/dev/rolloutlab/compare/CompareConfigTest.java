package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.sim.TimingModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where a compare run happens decides its defaults and what it may be asked: own servers, --targets, or a fleet. */
class CompareConfigTest {
    static final TimingModel TIMING = new TimingModel(1, 0.01, 0.1, 0.001, 0.5, 16);

    @Test
    void eachPlaceRunsTheStrategiesThatWorkThereByDefault() {
        assertEquals(Strategy.ownServers(), CompareConfig.defaults(true).build().strategies());
        assertEquals(
                List.of(Strategy.INPROC_SWAP),
                CompareConfig.defaults(true)
                        .externalTargets(List.of("http://127.0.0.1:9"))
                        .build()
                        .strategies(),
                "foreign servers take no weight pushes");
        CompareConfig fleet = onFleet().build();
        assertEquals(Strategy.fleet(), fleet.strategies());
        assertEquals(List.of(Topology.INPROC_N, Topology.HTTP_N, Topology.LB), fleet.topologies());
        assertEquals(8, fleet.numServers(), "2 hosts x 4 ports");
        assertEquals(2, fleet.engines(Topology.INPROC_N), "one engine per host");
    }

    @Test
    void aLongerCellIsLongerOnTheCheapestCellsToo() {
        assertEquals(256, CompareConfig.defaults(true).build().maxRequestsPerLeg(), "the default second");
        assertEquals(
                256,
                CompareConfig.defaults(true).cellSeconds(0.25).build().maxRequestsPerLeg(),
                "never below a second's");
        assertEquals(1280, CompareConfig.defaults(true).cellSeconds(5).build().maxRequestsPerLeg());
        assertEquals(
                5000,
                CompareConfig.defaults(true)
                        .cellSeconds(5)
                        .maxRequestsPerLeg(5000)
                        .build()
                        .maxRequestsPerLeg(),
                "--max-requests over the default");
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> CompareConfig.defaults(true).maxRequestsPerLeg(2).build());
        assertTrue(e.getMessage().startsWith("--max-requests (2) is below the least"), e.getMessage());
    }

    @Test
    void aStrategyThatCannotRunWhereTheServersAreIsRefusedWithTheChoices() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> onFleet().strategies(List.of(Strategy.RESTART)).build());
        assertTrue(e.getMessage().contains("http-restart does not run on a --fleet"), e.getMessage());
        assertTrue(e.getMessage().contains("http-push-tree"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> CompareConfig.defaults(true)
                        .strategies(List.of(Strategy.PUSH_TREE))
                        .build());
        assertTrue(e.getMessage().contains("on compare's own servers"), e.getMessage());
    }

    @Test
    void flagsThatDoNotApplyToAFleetAreRefusedNotIgnored() {
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> onFleet().numServers(3).build())
                .getMessage()
                .contains("--num-servers does not apply to --fleet"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> onFleet().shape("small").build())
                .getMessage()
                .contains("--shape does not apply"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> onFleet().model(Path.of("m")).build())
                .getMessage()
                .contains("--model does not apply"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> onFleet().untilCi(0, 5))
                .getMessage()
                .contains("--until-ci must be a percentage above 0"));
    }

    private static CompareConfig.Builder onFleet() {
        return CompareConfig.defaults(true).fleet(2, 4, TIMING);
    }
}
