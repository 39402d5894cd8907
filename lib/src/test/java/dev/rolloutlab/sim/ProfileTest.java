package dev.rolloutlab.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A profile file keeps what its calibration held the simulated host to. */
class ProfileTest {
    private static final TimingModel MODEL = new TimingModel(1, 0.01, 0.1, 0.001, 0.5, 16);

    @Test
    void aCalibratedProfileSaysWhatItWasHeldToAndAStatedOneDoesNot(@TempDir Path dir) {
        var calibrated = new Profile.Calibrated(
                new Profile.Loaded(8.8, 49.7, 5.74, 6.22, 20.4),
                // one port alone measures nothing on all ports: unknown, not zero
                new Profile.Loaded(9.1, 51.3, Double.NaN, 6.4, 20.1));
        Path file = dir.resolve("fit.json");
        new Profile("fit", MODEL, 0.99, 0.9, "sim calibrate", "http://127.0.0.1:9", "now", calibrated).write(file);
        assertEquals(calibrated, Profile.load(file.toString()).calibrated());

        Path stated = dir.resolve("stated.json");
        new Profile("stated", MODEL, Double.NaN, Double.NaN, "stated", "", "", null).write(stated);
        assertNull(Profile.load(stated.toString()).calibrated());
    }
}
