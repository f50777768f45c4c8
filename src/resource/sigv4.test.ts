import { describe, expect, test } from "bun:test";
import { EMPTY_SHA256, formatAmzDate, signRequest } from "./sigv4.ts";

// The GET Object example of the AWS S3 SigV4 documentation ("Example: GET Object").
const EXAMPLE = {
  creds: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
  signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
};

describe("signRequest()", () => {
  test("`signRequest()` reproduces AWS's documented GET Object signature when given its inputs", () => {
    const headers = signRequest(
      {
        method: "GET",
        url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
        region: "us-east-1",
        service: "s3",
        headers: { range: "bytes=0-9", "x-amz-content-sha256": EMPTY_SHA256 },
        payloadHash: EMPTY_SHA256,
        amzDate: "20130524T000000Z",
      },
      EXAMPLE.creds,
    );
    expect(headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=" + EXAMPLE.signature,
    );
  });

  test("`signRequest()` signs the session token when the credentials carry one", () => {
    const headers = signRequest(
      {
        method: "GET",
        url: new URL("http://127.0.0.1:9000/bucket/key"),
        region: "eu-west-1",
        service: "s3",
        headers: {},
        payloadHash: "UNSIGNED-PAYLOAD",
        amzDate: formatAmzDate(new Date(0)),
      },
      { ...EXAMPLE.creds, sessionToken: "tok" },
    );
    expect(headers["x-amz-security-token"]).toBe("tok");
    expect(headers.authorization).toContain("SignedHeaders=host;x-amz-date;x-amz-security-token");
    expect(headers["x-amz-date"]).toBe("19700101T000000Z");
  });
});
