package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.http1.Http1Pool;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each routing policy on backends with set loads: the first choice, and that the rest is a failover walk. */
class PolicyTest {
    static List<Backend> backends(int... inFlight) {
        return onMachines(inFlight.length, inFlight);
    }

    /** Backends on machines of {@code portsPerMachine} ports each, in machine order. */
    static List<Backend> onMachines(int portsPerMachine, int... inFlight) {
        List<Backend> bs = new ArrayList<>();
        for (int i = 0; i < inFlight.length; i++) {
            String machine = "127.0.0." + (1 + i / portsPerMachine);
            // a pool that is never used: policies only read the load
            Backend b = new Backend(
                    "http://" + machine + ":" + (1000 + i),
                    "b" + i,
                    machine + ":" + (1000 + i),
                    new Http1Pool(
                            "127.0.0.1",
                            1000 + i,
                            false,
                            Duration.ofSeconds(1),
                            Duration.ofSeconds(1),
                            Duration.ofSeconds(1)),
                    null);
            b.inFlight.set(inFlight[i]);
            bs.add(b);
        }
        return bs;
    }

    static int[] order(Policy p, List<Backend> bs) {
        int[] o = new int[bs.size()];
        p.order(bs, RouteHint.NONE, o);
        return o;
    }

    static void assertWalk(int[] o) {
        for (int i = 1; i < o.length; i++)
            assertEquals((o[0] + i) % o.length, o[i], "failover walks on cyclically: " + Arrays.toString(o));
    }

    @Test
    void roundRobinKeepsTheOriginalOrderAndHealthTakesATurn() {
        Policy rr = Policy.parse("round-robin");
        List<Backend> bs = backends(0, 0, 0);
        assertArrayEquals(new int[] {0, 1, 2}, order(rr, bs));
        assertArrayEquals(new int[] {1, 2, 0}, order(rr, bs));
        rr.skipTurn();
        assertArrayEquals(new int[] {0, 1, 2}, order(rr, bs), "request k starts at k mod N, /health included");
        assertEquals("round-robin", Policy.parse("rr").name());
    }

    @Test
    void leastLoadPicksTheLeastLoadedAndRotatesTies() {
        Policy ll = Policy.parse("least-load");
        int[] o = order(ll, backends(5, 2, 7, 3));
        assertArrayEquals(new int[] {1, 3, 0, 2}, o, "least loaded first, failover to the next least loaded");
        Set<Integer> firsts = new HashSet<>();
        List<Backend> equal = backends(1, 1, 1);
        for (int i = 0; i < 3; i++) firsts.add(order(ll, equal)[0]);
        assertEquals(Set.of(0, 1, 2), firsts, "equal backends share the work");
        List<Backend> reported = backends(0, 0);
        reported.get(0).health.reportedLoad = 9; // the backend's own queue counts too
        assertEquals(1, order(ll, reported)[0]);
        assertEquals(1, order(ll, reported)[0]);
    }

    @Test
    void aStaleReportIsMovedOnByWhatTheBalancerSentAndGotBackSince() {
        Policy ll = Policy.parse("least-load");
        List<Backend> bs = backends(2, 5);
        // a reported 10 while we had 10 there; 8 of them have finished since. b was idle at its report; we sent it 5
        // since
        bs.get(0).health.reportedLoad = 10;
        bs.get(0).health.inFlightAtReport = 10;
        bs.get(1).health.reportedLoad = 0;
        bs.get(1).health.inFlightAtReport = 0;
        assertEquals(2, bs.get(0).load());
        assertEquals(5, bs.get(1).load());
        assertEquals(0, order(ll, bs)[0], "the report plus our whole count would say 12 against 5");
        bs.get(0).health.inFlightAtReport = 0; // others' requests: 10 queued there that are not ours
        assertEquals(12, bs.get(0).load());
        assertEquals(1, order(ll, bs)[0]);
    }

    @Test
    void powerOfTwoNeverPicksTheHeavierOfTwo() {
        Policy p2c = Policy.parse("p2c");
        List<Backend> two = backends(4, 1);
        for (int i = 0; i < 50; i++) {
            int[] o = order(p2c, two);
            assertEquals(1, o[0]);
            assertWalk(o);
        }
        List<Backend> many = backends(9, 9, 9, 0);
        int lightest = 0;
        for (int i = 0; i < 400; i++) if (order(p2c, many)[0] == 3) lightest++;
        // the lightest wins whenever it is one of the two drawn: 1 - C(3,2)/C(4,2) = 1/2 of draws
        assertTrue(lightest > 140 && lightest < 260, "lightest chosen " + lightest + " of 400");
    }

    @Test
    void randomStartsAnywhereAndWalksOn() {
        Policy r = Policy.parse("random");
        List<Backend> bs = backends(0, 0, 0, 0);
        Set<Integer> firsts = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int[] o = order(r, bs);
            assertWalk(o);
            firsts.add(o[0]);
        }
        assertEquals(Set.of(0, 1, 2, 3), firsts);
    }

    @Test
    void unknownPolicyNamesTheChoices() {
        var e = assertThrows(IllegalArgumentException.class, () -> Policy.parse("fastest"));
        assertTrue(
                e.getMessage().contains("round-robin, least-load, p2c, random, cache-aware or sticky"), e.getMessage());
    }

    @Test
    void cacheAwareKeepsEachGroupOnOneBackendOfAPodsManyPorts() {
        // 32 hosts x 4 ports: more backends than one 64-bit word of owners
        List<Backend> bs = onMachines(4, new int[128]);
        Policy p = Policy.parse("cache-aware");
        int[] o = new int[bs.size()];
        Set<Integer> firsts = new HashSet<>();
        for (int group = 0; group < 100; group++) {
            byte[] body = ("{\"model\":\"m\",\"prompt\":\"group " + group + " " + "shared words ".repeat(40)
                            + "\",\"max_tokens\":32}")
                    .getBytes(StandardCharsets.UTF_8);
            int first = -1;
            for (int sample = 0; sample < 8; sample++) {
                p.order(bs, new RouteHint(null, body), o);
                if (sample == 0) first = o[0];
                assertEquals(first, o[0], "group " + group + "'s request " + sample + " follows its first");
                bs.get(o[0]).inFlight.incrementAndGet();
            }
            firsts.add(first);
        }
        assertTrue(
                firsts.stream().anyMatch(b -> b >= 64), "groups were placed beyond the first 64 backends: " + firsts);
    }

    @Test
    void groupsPlacedByLoadSpreadOverMachinesNotOnlyOverPorts() {
        // 8 hosts x 4 ports, every port idle: a group's 8 requests advance the tie rotation by 8, which once sent
        // every group to the ports of the even hosts only
        List<Backend> bs = onMachines(4, new int[32]);
        Policy p = Policy.parse("cache-aware");
        int[] o = new int[bs.size()];
        int[] perMachine = new int[8];
        for (int group = 0; group < 8; group++) {
            byte[] body = ("{\"prompt\":\"group " + group + " " + "shared words ".repeat(40) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            for (int sample = 0; sample < 8; sample++) {
                p.order(bs, new RouteHint(null, body), o);
                if (sample == 0) perMachine[o[0] / 4]++;
                bs.get(o[0]).inFlight.incrementAndGet();
            }
        }
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1}, perMachine, "one group per host");
    }
}
