import { describe, expect, it } from "vitest";
import { isPrivateAddress } from "../../../functions/platform/webhook-sender.js";

// Addresses as the URL parser leaves them: `new URL("https://[::ffff:127.0.0.1]/")` has the host `[::ffff:7f00:1]`.
const hostOf = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, "");

describe("isPrivateAddress", () => {
  it("sees IPv4 addresses carried in IPv6: mapped (either form), compatible, NAT64, 6to4, Teredo", () => {
    const carried = [
      hostOf("https://[::ffff:127.0.0.1]/x"),
      hostOf("https://[::ffff:a9fe:a9fe]/x"),
      "::ffff:7f00:1",
      "::ffff:169.254.169.254",
      "0:0:0:0:0:ffff:0a00:0001",
      "::ffff:0:10.0.0.1",
      "::127.0.0.1",
      "::a00:1",
      "64:ff9b::7f00:1",
      "64:ff9b::169.254.169.254",
      "64:ff9b:1::8.8.8.8",
      "2002:7f00:1::1",
      "2002:a9fe:a9fe::",
      "2001:0:4136:e378:8000:63bf:3fff:fdd2",
      "ff02::1",
      "FE80::1%eth0",
    ];
    for (const a of carried) expect(isPrivateAddress(a), a).toBe(true);
  });

  it("lets public addresses through, in every form", () => {
    for (const a of ["8.8.8.8", "::ffff:8.8.8.8", "::ffff:808:808", "64:ff9b::808:808", "2002:808:808::1", "2001:db8::1", "2606:4700:4700::1111"]) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });

  it("refuses what is not an address", () => {
    expect(isPrivateAddress("not-an-ip")).toBe(true);
  });
});
