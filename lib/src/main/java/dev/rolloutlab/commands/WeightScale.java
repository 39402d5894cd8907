package dev.rolloutlab.commands;

import picocli.CommandLine.Option;

/**
 * A simulated weight update's real size, and how far payloads and the weights' link rate are scaled down. Shared by sim
 * sweep and compare --fleet.
 */
final class WeightScale {
    /** What one simulated host takes in one push (its small heap). */
    private static final double MAX_PUSH_BYTES = 64e6;

    @Option(
            names = "--bytes-scale",
            defaultValue = "1000",
            description = "Divide weight payloads and the weights' link rate by this (requests keep "
                    + "the real rate), so a real-size update takes its true time without moving its "
                    + "bytes. Default: ${DEFAULT-VALUE}")
    double bytesScale;

    @Option(
            names = "--model-gb",
            defaultValue = "0.25",
            description = "Real size of one weight update in GB (0.25: a 125M model in BF16; 16: an 8B "
                    + "one). Transfers take their real time, so large updates to many hosts make long "
                    + "runs. Default: ${DEFAULT-VALUE}")
    double modelGb;

    /** Refuses sizes out of range, and pushes larger than a simulated host takes. */
    void check() {
        if (!(bytesScale >= 1 && bytesScale <= 1e6))
            throw new Cli.UserError("--bytes-scale must be in [1, 1000000], got " + bytesScale);
        if (!(modelGb > 0 && modelGb <= 2000))
            throw new Cli.UserError("--model-gb must be in (0, 2000], got " + modelGb);
        if (modelGb * 1e9 / bytesScale > MAX_PUSH_BYTES) {
            throw new Cli.UserError("--model-gb / --bytes-scale is " + Math.round(modelGb * 1e9 / bytesScale / 1e6)
                    + " MB per push; a simulated host "
                    + "takes at most 64 MB: raise --bytes-scale (times stay true: rates shrink by the same factor)");
        }
    }
}
