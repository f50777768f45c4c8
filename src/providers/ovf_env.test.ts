import { describe, expect, test } from "bun:test";
import { decodeBase64, gunzipIfGzip } from "./decode.ts";
import { deleteOvfProperties, readOvfProperties } from "./ovf_env.ts";

const DOC = `<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" xmlns:x="urn:other">
  <PropertySection>
    <Property oe:key="guestinfo.ignition.config.data" oe:value="{&quot;a&quot;:1}"/>
    <Property oe:key="guestinfo.ignition.config.data.encoding" oe:value=""></Property>
    <x:Property x:key="guestinfo.ignition.config.data" x:value="foreign"/>
    <Property oe:key="keep" oe:value="&lt;1&gt;"/>
  </PropertySection>
</Environment>`;

describe("OVF environment", () => {
  test("readOvfProperties() reads the environment namespace's properties, unescaped", () => {
    expect(readOvfProperties(DOC)).toEqual({ "guestinfo.ignition.config.data": '{"a":1}', "guestinfo.ignition.config.data.encoding": "", keep: "<1>" });
  });

  test("deleteOvfProperties() removes only the named properties of the environment namespace", () => {
    const out = deleteOvfProperties(DOC, ["guestinfo.ignition.config.data", "guestinfo.ignition.config.data.encoding"])!;
    expect(readOvfProperties(out)).toEqual({ keep: "<1>" });
    expect(out).toContain('x:value="foreign"');
    expect(deleteOvfProperties(out, ["guestinfo.ignition.config.data"])).toBeNull();
  });
});

describe("user data encodings", () => {
  test("decodeBase64() ignores line breaks and refuses anything else that is not base64", () => {
    expect(new TextDecoder().decode(decodeBase64("e30K\n", "p", "s"))).toBe("{}\n");
    expect(() => decodeBase64("e30", "oraclecloud", "metadata x")).toThrow('Cannot decode config on platform "oraclecloud" from metadata x: invalid base64 data');
    expect(() => decodeBase64("e3 0K", "p", "s")).toThrow(/invalid base64/);
  });

  test("gunzipIfGzip() gunzips gzip and passes anything else through", () => {
    const gz = Bun.gzipSync(new TextEncoder().encode("{}"));
    expect(new TextDecoder().decode(gunzipIfGzip(gz, "p", "s"))).toBe("{}");
    expect(new TextDecoder().decode(gunzipIfGzip(new TextEncoder().encode("{}"), "p", "s"))).toBe("{}");
    expect(() => gunzipIfGzip(gz.subarray(0, 12), "akamai", "metadata y")).toThrow(/Cannot decompress config on platform "akamai" from metadata y/);
  });
});
