package dev.rolloutlab.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** serve's port and engine-sharing rules, without starting a server. */
class ServerGroupPortsTest {
    @Test
    void portsComeFromTheListOrFromTheBaseAndAMismatchNamesBothFlags() {
        assertEquals(List.of(31000, 31001, 31002), ServerGroup.ports(3, 31000, null));
        assertEquals(List.of(0, 0), ServerGroup.ports(2, 0, List.of()), "0: free ports");
        assertEquals(List.of(5, 9), ServerGroup.ports(2, 31000, List.of(5, 9)), "a list wins over the base");
        var e = assertThrows(IllegalArgumentException.class, () -> ServerGroup.ports(2, 0, List.of(1, 2, 3)));
        assertTrue(e.getMessage().contains("--ports") && e.getMessage().contains("--num-servers"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ServerGroup.ports(0, 0, null));
    }

    @Test
    void engineSharingParsesItsTwoNames() {
        assertEquals(ServerGroup.Engines.PER_PORT, ServerGroup.Engines.parse("per-port"));
        assertEquals(ServerGroup.Engines.SHARED, ServerGroup.Engines.parse("Shared"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ServerGroup.Engines.parse("x"))
                .getMessage()
                .contains("expected per-port or shared"));
    }
}
