package dova.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dova.serve.config.ServeSettings;
import dova.sim.Overflow;
import org.junit.jupiter.api.Test;

class ServeSettingsTest {
    private static String error(String overrides) {
        return assertThrows(IllegalArgumentException.class, () -> ServeSettings.from(
                ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load()).resolve())).getMessage();
    }

    @Test
    void defaultsLoad() {
        ServeSettings s = ServeSettings.from(ConfigFactory.load());
        assertTrue(s.kafka().embedded());
        assertEquals(2, s.pool().processors().size());
        assertEquals(16, s.pool().processors().get(0).accumulatorBits());
        assertEquals(Overflow.WRAP, s.pool().processors().get(0).overflow());
        assertEquals("127.0.0.1", s.http().host());
    }

    @Test
    void unknownSettingIsNamed() {
        String m = error("dova.kafka.bootstrap-server = \"x:9092\"");
        assertTrue(m.contains("dova.kafka.bootstrap-server") && m.contains("unknown"), m);
    }

    @Test
    void illTypedSettingIsNamed() {
        String m = error("dova.http.port = \"eighty\"");
        assertTrue(m.contains("http.port"), m);
        assertTrue(error("dova.http.port = 70000").contains("dova.http.port"));
        assertTrue(error("dova.pool.parallelism = 0").contains("dova.pool.parallelism"));
    }

    @Test
    void badProcessorIsNamedByIndex() {
        String m = error("dova.pool.processors = [{acc-bits = 16, mul-bits = 12, overflow = wrap},"
                + " {acc-bits = 40, mul-bits = 12, overflow = wrap}]");
        assertTrue(m.contains("dova.pool.processors[1]") && m.contains("accumulatorBits"), m);
        String u = error("dova.pool.processors = [{acc-bits = 16, mul-bits = 12, overflow = clip}]");
        assertTrue(u.contains("processors[0]") && u.contains("clip"), u);
        String k = error("dova.pool.processors = [{acc-bits = 16, mul-bits = 12, overflow = wrap, lanes = 4}]");
        assertTrue(k.contains("processors[0].lanes"), k);
    }
}
