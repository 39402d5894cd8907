package dev.rolloutlab.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Backend addresses: the one check, and the base URL every client is built from. */
class HostPortTest {
    @Test
    void aBaseUrlComesFromHostPortOrAUrlWithoutItsTrailingSlash() {
        assertEquals("http://127.0.0.1:8000", HostPort.url("127.0.0.1:8000"));
        assertEquals("http://127.0.0.1:8000", HostPort.url(" http://127.0.0.1:8000/ "));
        assertEquals("https://api.example.com/v1", HostPort.url("https://api.example.com/v1/"));
        assertEquals("http://[::1]:9100/registry", HostPort.url("http://[::1]:9100/registry"));
    }

    @Test
    void aBadAddressIsRefusedWithWhatIsWrongInIt() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HostPort.url("not a url"))
                .getMessage()
                .contains("'not a url' is not host:port"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HostPort.url("host:abc"))
                .getMessage()
                .contains("port 'abc' is not a number"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HostPort.url("http://h:70000"))
                .getMessage()
                .contains("outside 1-65535"));
        assertThrows(IllegalArgumentException.class, () -> HostPort.url("http://bad host/"));
    }

    @Test
    void onlyLoopbackAddressesKeepAServerOnThisMachine() {
        assertTrue(HostPort.isLoopback("127.0.0.1"));
        assertTrue(HostPort.isLoopback("::1"));
        assertFalse(HostPort.isLoopback("0.0.0.0"));
        assertFalse(HostPort.isLoopback("198.18.0.1"));
    }
}
