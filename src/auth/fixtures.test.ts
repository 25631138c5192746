/**
 * Shared test fixtures: two self-signed EC client certificates with their keys and a serving
 * certificate for 127.0.0.1 (generated once with openssl, valid until 2126), and a
 * temporary-directory helper. Imported by the tests in this folder; it has no tests of its own
 * (named `.test.ts` so it stays out of the published package).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CERT_A = `-----BEGIN CERTIFICATE-----
MIIBujCCAWGgAwIBAgIUJMP2n6QM3M/mSjl+VbR+UO3ERy4wCgYIKoZIzj0EAwIw
MjEXMBUGA1UEAwwOa3ViZWtpdC10ZXN0LWExFzAVBgNVBAoMDnN5c3RlbTptYXN0
ZXJzMCAXDTI2MTEyNDAwNTgwMloYDzIxMjYxMDMxMDA1ODAyWjAyMRcwFQYDVQQD
DA5rdWJla2l0LXRlc3QtYTEXMBUGA1UECgwOc3lzdGVtOm1hc3RlcnMwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARc8uY8qB84BBjI1gZQ1oNEgXUIUFA1sgi8hShQ
KzI7PxuIau1ouFLXYygG1HwBYFCzY94FUUAVS34Ik+WmLNZQo1MwUTAdBgNVHQ4E
FgQUmNT4JNmnO1qtXlhbgS/65GqW3EswHwYDVR0jBBgwFoAUmNT4JNmnO1qtXlhb
gS/65GqW3EswDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBMlG0k
LVnyP/qa49iNKtOmaVEMlADgkwko4YyHjd5o2AIgLiWN0/nsfKO4QFEZ5ziFMB/N
S8a2smT3QWGM8rxPspM=
-----END CERTIFICATE-----
`;
export const KEY_A = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKUKFJIOLpDJIBBzO
E0QoITli3qsJlY1LyqZM1cGPg++hRANCAARc8uY8qB84BBjI1gZQ1oNEgXUIUFA1
sgi8hShQKzI7PxuIau1ouFLXYygG1HwBYFCzY94FUUAVS34Ik+WmLNZQ
-----END PRIVATE KEY-----
`;
export const CERT_B = `-----BEGIN CERTIFICATE-----
MIIBujCCAWGgAwIBAgIUFQtakEvtiiGpDzYzctujv097KTwwCgYIKoZIzj0EAwIw
MjEXMBUGA1UEAwwOa3ViZWtpdC10ZXN0LWIxFzAVBgNVBAoMDnN5c3RlbTptYXN0
ZXJzMCAXDTI2MTEyNDAwNTgwMloYDzIxMjYxMDMxMDA1ODAyWjAyMRcwFQYDVQQD
DA5rdWJla2l0LXRlc3QtYjEXMBUGA1UECgwOc3lzdGVtOm1hc3RlcnMwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARy/4f7IznB2iNgZ2ukbtakxKHZCwL2fd8n7ojx
NucyuJttOFIc+LSJ8adO4rautcFNk+9SOYPcZZXgylVBtRGRo1MwUTAdBgNVHQ4E
FgQU32oQt+ciHGh7ETEmW5wF4y6jX4AwHwYDVR0jBBgwFoAU32oQt+ciHGh7ETEm
W5wF4y6jX4AwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBwuHl4
ffD0OXx/lZh0zhOpK6dOVGKaXM38F1+YcvguIQIgRjUp8MrhxLoIrvQCXnVubuye
5ukBEHu8OsJFi4Eqvh8=
-----END CERTIFICATE-----
`;
export const KEY_B = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/G2XhBqRjaHjqQe6
xOZwPor1LLXBM7IJ00L01o87Pa+hRANCAARy/4f7IznB2iNgZ2ukbtakxKHZCwL2
fd8n7ojxNucyuJttOFIc+LSJ8adO4rautcFNk+9SOYPcZZXgylVBtRGR
-----END PRIVATE KEY-----
`;

/** A self-signed serving certificate for 127.0.0.1 (its own CA), for local HTTPS servers. */
export const SERVER_CERT = `-----BEGIN CERTIFICATE-----
MIIBkTCCATagAwIBAgIUS7qpl4WOHzUBgNdJQhKKQVDad4EwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyNDAxMTA0OFoYDzIxMjYxMDMx
MDExMDQ4WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQobOnlppzr7nqqIwTADFQL70kKBvQ5PNpnqB7yZI7foJGUTJsCQQFx
gfG4YY9AQBBG7MyqAa7ttS3zvLhx9yYOo2QwYjAdBgNVHQ4EFgQU6UOy9Z44tqHu
Yis4glgOTnt0ITgwHwYDVR0jBBgwFoAU6UOy9Z44tqHuYis4glgOTnt0ITgwDwYD
VR0RBAgwBocEfwAAATAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYC
IQDqEOk1BQBY9GgmN+RYjPBgw2zLLt88KK2H5KnyEZCw+QIhAPvd2TrbmwhMyK53
kHja/w9maQRi0Y3v05wCOHCL+nzO
-----END CERTIFICATE-----
`;
export const SERVER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwHqOOh3CmCjFIl5/
WsNil3opI7uZrKOLHji/5Dn5sQuhRANCAAQobOnlppzr7nqqIwTADFQL70kKBvQ5
PNpnqB7yZI7foJGUTJsCQQFxgfG4YY9AQBBG7MyqAa7ttS3zvLhx9yYO
-----END PRIVATE KEY-----
`;

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "kubekit-auth-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
