package io.raftlog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class JsonWriterTest {

    @Test
    void writesNestedStructuresWithCommas() {
        String json = new JsonWriter().beginObject()
                .name("a").value(1)
                .name("b").value(List.of(1, 2, 3))
                .name("c").beginArray().beginObject().name("x").value(true).endObject()
                .beginObject().name("y").value(false).endObject().endArray()
                .name("d").beginArray().endArray()
                .name("e").value((String) null)
                .endObject().toString();
        assertEquals("{\"a\":1,\"b\":[1,2,3],\"c\":[{\"x\":true},{\"y\":false}],\"d\":[],\"e\":null}", json);
    }

    @Test
    void escapesStrings() {
        String json = new JsonWriter().value("q\"b\\s/n\nr\rt\tz\u0000\u001f\u2028é").toString();
        assertEquals("\"q\\\"b\\\\s/n\\nr\\rt\\tz\\u0000\\u001f\\u2028é\"", json);
        assertEquals("{\"we\\\"ird\":\"v\"}", new JsonWriter().beginObject().name("we\"ird").value("v").endObject()
                .toString());
    }
}
