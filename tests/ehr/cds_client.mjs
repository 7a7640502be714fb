// A real CDS Hooks client: @medplum/core's MedplumClient discovers caresheet's services and
// calls one, with a JWT this script signs (ES384) as an EHR would.
// Input (environment): CARESHEET_URL, CDS_ISS, CDS_KID, CDS_PRIVATE_KEY (PKCS#8 PEM),
// CDS_SERVICE, CDS_BODY (the hook request, JSON). Output: {"services": …, "response": …}.
import { createPrivateKey, randomUUID, sign } from 'node:crypto';

// @medplum/core reaches for WebSocket at import (subscriptions); Node 20 has none.
globalThis.WebSocket ??= class WebSocket {};
const { MedplumClient } = await import('@medplum/core');

const env = process.env;
const base64url = (data) => Buffer.from(data).toString('base64url');

function signedJwt(audience) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES384', typ: 'JWT', kid: env.CDS_KID };
  const claims = { iss: env.CDS_ISS, aud: audience, iat: now, exp: now + 120, jti: randomUUID() };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const key = createPrivateKey(env.CDS_PRIVATE_KEY);
  const signature = sign('sha384', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${base64url(signature)}`;
}

const medplum = new MedplumClient({ baseUrl: `${env.CARESHEET_URL}/`, cdsServicesUrl: 'cds-services' });
const services = await medplum.getCdsServices();
const audience = `${env.CARESHEET_URL}/cds-services/${env.CDS_SERVICE}`;
const response = await medplum.callCdsService(env.CDS_SERVICE, JSON.parse(env.CDS_BODY), {
  headers: { Authorization: `Bearer ${signedJwt(audience)}` },
});
process.stdout.write(JSON.stringify({ services, response }));
