package dev.rolloutlab.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A prefill's share of the host from its fixed work and its work per token, and profiles written before that. */
class ContentionTest {
    @TempDir
    Path dir;

    /** a = 4 ms of fixed work, 0.25 ms a prompt token: 8 tokens are 2 ms of it, 128 are 32 ms. */
    private static TimingModel engine(Contention k) {
        return new TimingModel(4, 0.25, 1, 0.5, 0, 16).with(k);
    }

    @Test
    void aPrefillsShareWeighsItsFixedWorkAndItsWorkPerTokenByTheirTimeAlone() {
        // the fixed work: 1 at full speed at once (share 1); per token: 4 at once (share 0.25)
        TimingModel m = engine(new Contention(2, 1, 4, 1));
        assertEquals((4 * 1 + 2 * 0.25) / 6, m.prefillShare(8), 1e-12);
        assertEquals((4 * 1 + 32 * 0.25) / 36, m.prefillShare(128), 1e-12);
        assertEquals(1, m.prefillShare(0), 1e-12, "an empty prompt is its fixed work alone");
        assertEquals(0.25, m.prefillShare(100_000), 2e-4, "a long prompt tends to the per-token share");
        // and the other way round, as the engine of an earlier day contended
        TimingModel longer = engine(new Contention(2, 4, 1, 1));
        assertTrue(longer.prefillShare(128) > longer.prefillShare(8));
        assertEquals(0.5, engine(Contention.uniform(2, 2, 1)).prefillShare(77), 1e-12);
    }

    @Test
    void prefillsThatContendForOnlyOneOfTheirPartsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Contention(2, 1, 0, 1));
        assertTrue(e.getMessage().contains("both be 0"), e.getMessage());
    }

    @Test
    void aProfileWrittenWithAPrefillLineKeepsItsShareAtTheLinesReferencePrompt() throws Exception {
        Path old = dir.resolve("old.json");
        Files.writeString(old, """
                {"name": "before", "model": {"a_ms": 4, "b_ms_per_prompt_token": 0.25, "c_ms": 1,
                 "d_ms_per_sequence": 0.5, "e_ms_per_context_token": 0, "max_batch": 16,
                 "full_speed_decodes": 2, "full_speed_prefills": 1.25, "prefill_share_per_token": 0.001,
                 "prefill_slowdown_beside_decodes": 0.7, "step_cv": 0.2}}
                """);
        TimingModel m = Profile.load(old.toString()).model();
        assertEquals(1 / 1.25 + 0.001 * Profile.LINE_AT, m.prefillShare(Profile.LINE_AT), 1e-9);
        assertEquals(1 / 1.25, m.prefillShare(0), 1e-9, "an empty prompt's share is the line's");
        assertEquals(0.7, m.contention().prefillBesideDecodes());
        Path again = dir.resolve("again.json");
        Profile.load(old.toString()).write(again);
        assertEquals(m, Profile.load(again.toString()).model(), "written in today's terms, read back the same");
    }

    @Test
    void theWaitsForACoreAreKeptByTheProfileAndAbsentFromOneWrittenBeforeThem() throws Exception {
        CoreWaits waits = new CoreWaits(new CoreWait(0.3, 0.5), new CoreWait(0.4, 2.5), new CoreWait(0.25, 3));
        TimingModel m = new TimingModel(4, 0.25, 1, 0.5, 0, 16)
                .with(Contention.uniform(2, 1.25, 0.7).withWaits(waits))
                .withStepCv(0.2);
        Path file = dir.resolve("waits.json");
        new Profile("waits", m, 0.99, 0.98, "test", "", "", null).write(file);
        assertEquals(m, Profile.load(file.toString()).model());
        String json = Files.readString(file);
        assertTrue(json.contains("\"finishing_chance\" : 0.25") && json.contains("\"finishing_ms\" : 3.0"), json);
        Path none = dir.resolve("none.json");
        Files.writeString(none, json.replaceAll("\"(woken_beside_\\w+|finishing)_(chance|ms)\" : [\\d.]+,\\s*", ""));
        assertEquals(
                CoreWaits.NONE,
                Profile.load(none.toString()).model().contention().waits(),
                "none where none was fitted");
        // a profile whose waits had only a mean waited whenever other steps ran
        Path mean = dir.resolve("mean.json");
        Files.writeString(
                mean, Files.readString(none).replace("\"step_cv\"", "\"wake_beside_prefills_ms\" : 2.5, \"step_cv\""));
        assertEquals(
                new CoreWaits(CoreWait.NONE, new CoreWait(1, 2.5), CoreWait.NONE),
                Profile.load(mean.toString()).model().contention().waits());
        var e = assertThrows(IllegalArgumentException.class, () -> new CoreWait(0, -1));
        assertTrue(e.getMessage().contains("wait for a core"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CoreWait(1.5, 1));
        assertTrue(e.getMessage().contains("chance"), e.getMessage());
    }

    @Test
    void theSimulatingServersOwnWorkShortensAPrefillNotADecodeAndIsKeptByTheProfile() throws Exception {
        TimingModel m = new TimingModel(60, 0, 60, 0, 0, 16)
                .with(Contention.uniform(2, 2, 1).withServerWork(20));
        long t0 = System.nanoTime();
        m.step(t0, 8, 0, 0);
        assertEquals(40, (System.nanoTime() - t0) / 1e6, 10, "a prefill alone: 60 ms of work, 20 done by the server");
        t0 = System.nanoTime();
        m.step(t0, 0, 1, 0);
        assertEquals(60, (System.nanoTime() - t0) / 1e6, 10, "a decode step: all its own");
        Path file = dir.resolve("server-work.json");
        new Profile("server work", m, 0.99, 0.98, "test", "", "", null).write(file);
        assertEquals(m, Profile.load(file.toString()).model());
        Path before = dir.resolve("before-server-work.json");
        Files.writeString(before, Files.readString(file).replaceAll("\"server_work_ms\" : [\\d.]+,\\s*", ""));
        assertEquals(
                0, Profile.load(before.toString()).model().contention().serverWorkMs(), "none where none was fitted");
        var e = assertThrows(IllegalArgumentException.class, () -> Contention.NONE.withServerWork(-1));
        assertTrue(e.getMessage().contains("server's own work"), e.getMessage());
    }
}
