package dev.rolloutlab.report;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep folder whose points are known: the report names exactly the points the sweep marked as showing this machine.
 */
class SimReportTest {
    @TempDir
    Path dir;

    @Test
    void pointsThatShowThisMachineAreNamedAndTheOthersAreNot() throws Exception {
        String head =
                "hosts,ports,topology,completed,failed,request_throughput,output_throughput,mean_ttft_ms,p50_e2el_ms,p99_e2el_ms,machine_cpu_busy_pct";
        Files.writeString(
                dir.resolve("sim_sweep.csv"),
                head + ",shows_this_machine\n"
                        + "8,4,fanout,256,0,70,2300,40,1400,,50,false\n"
                        + "8,4,lb,256,0,80,2500,40,1400,,47,false\n"
                        + "64,4,fanout,2048,0,190,6100,90,4300,9900,96,true\n"
                        + "64,4,lb,805,1245,50,1600,80,3800,,82,true\n");
        Files.writeString(
                dir.resolve("sim_weights.csv"),
                "hosts,strategy,bytes_per_host,real_bytes_per_host,wall_ms,predicted_ms\n"
                        + "8,push-all,250000,250000000,1705,1602\n64,push-all,250000,250000000,13950,12802\n");
        Files.writeString(
                dir.resolve("run.json"),
                "{\"config\":{\"hosts\":[8,64],\"ports_per_host\":4,\"profile\":\"p\",\"wall_s\":200}}");
        String md = Files.readString(SimReport.write(dir));
        String line = md.lines()
                .filter(l -> l.startsWith("**Not predictions**"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(md));
        assertTrue(line.contains("64 hosts fanout") && line.contains("64 hosts lb"), line);
        assertFalse(line.contains("8 hosts"), line);
    }

    @Test
    void aFolderFromBeforeTheMarkFallsBackToTheCpuRule() throws Exception {
        Files.writeString(
                dir.resolve("sim_sweep.csv"),
                "hosts,ports,topology,completed,failed,request_throughput,output_throughput,mean_ttft_ms,"
                        + "p50_e2el_ms,p99_e2el_ms,machine_cpu_busy_pct\n8,4,fanout,256,0,70,2300,40,1400,,50\n32,4,lb,1024,0,170,5700,90,2400,5100,91\n");
        Files.writeString(
                dir.resolve("sim_weights.csv"),
                "hosts,strategy,bytes_per_host,real_bytes_per_host,wall_ms,predicted_ms\n");
        Files.writeString(dir.resolve("run.json"), "{\"config\":{}}");
        String md = Files.readString(SimReport.write(dir));
        assertTrue(
                md.contains("**Not predictions**") && md.contains("32 hosts lb") && !md.contains("8 hosts fanout"), md);
    }
}
