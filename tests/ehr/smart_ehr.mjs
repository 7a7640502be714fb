// A test EHR for SMART App Launch, made of real parts on 127.0.0.1 (no internet):
//
// - the npm package oauth2-mock-server as its authorization server: real signed JWTs from a
//   JWKS, PKCE checked, each code good once. What it lacks for SMART is added in its hooks:
//   the authorize request must name our FHIR base as `aud` and a known `launch` (unless
//   standalone); the token response gets `patient`, `encounter`, `need_patient_banner`; the
//   id_token gets `fhirUser` and `email`.
// - a small FHIR server (node:http) under /fhir: the SMART discovery document, a
//   CapabilityStatement with the OAuth URIs, Patient / ServiceRequest / Procedure reads, and
//   POST DocumentReference. Every request needs a bearer access token that verifies against the
//   authorization server's keys. Created documents are kept for the test to read back.
//
// Each launch id names a context (EHR_LAUNCHES, JSON: {id: {patient, encounter, fhirUser,
// email, banner, appContext, mode}}); `mode` makes one misbehaviour for that launch:
// "other_key" (id_token signed by a key not in the JWKS), "other_aud", "expired", "no_patient".
// EHR_CHART holds the patients, orders and procedures, and `refuseWritesFor` (subjects whose
// new documents the EHR refuses with 403).
// Prints one JSON line with the addresses, then serves until killed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { OAuth2Issuer, OAuth2Server } from 'oauth2-mock-server';

const ALG = process.env.EHR_ALG || 'RS256';
const LAUNCHES = JSON.parse(process.env.EHR_LAUNCHES || '{}');
const STANDALONE = JSON.parse(process.env.EHR_STANDALONE || '{}');
const CHART = JSON.parse(process.env.EHR_CHART || '{}');

const auth = new OAuth2Server();
await auth.issuer.keys.generate(ALG);
await auth.start(0, '127.0.0.1');
const authUrl = `http://127.0.0.1:${auth.address().port}`;
auth.issuer.url = authUrl;

const stranger = new OAuth2Issuer();
await stranger.keys.generate(ALG);
stranger.url = authUrl;

const fhir = http.createServer();
await new Promise((resolve) => fhir.listen(0, '127.0.0.1', resolve));
const fhirBase = `http://127.0.0.1:${fhir.address().port}/fhir`;

const launchOfCode = new Map(); // code -> the launch's context
const strangerTokens = new Map(); // code -> an id_token signed by a key the EHR never published
const documents = [];
const log = []; // what the EHR saw: method, path, whether a valid token came with it

auth.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const query = new URL(req.url, authUrl).searchParams;
  const code = redirect.url.searchParams.get('code');
  const launch = query.get('launch');
  const fail = (error) => {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', error);
  };
  if (query.get('aud') !== fhirBase) return fail('invalid_request');
  const scopes = (query.get('scope') || '').split(' ');
  let context;
  if (launch !== null) {
    context = LAUNCHES[launch];
    if (!context || !scopes.includes('launch')) return fail('invalid_request');
  } else {
    if (!scopes.includes('launch/patient')) return fail('invalid_scope');
    context = STANDALONE;
  }
  if (!code) return;
  launchOfCode.set(code, context);
  if (context.mode === 'other_key') {
    // Signed now (the hooks at the token endpoint cannot wait): same claims, a key that is
    // not in the EHR's JWKS.
    const nonce = query.get('nonce');
    stranger.buildToken({ scopesOrTransform: (_header, payload) => Object.assign(payload, {
      sub: 'johndoe', aud: query.get('client_id'), nonce, fhirUser: context.fhirUser }) })
      .then((token) => strangerTokens.set(code, token));
  }
});

auth.service.on('beforeTokenSigning', (token, req) => {
  const context = launchOfCode.get(req.body.code) || {};
  if (token.payload.aud !== undefined && token.payload.nonce !== undefined) {
    // The id_token (it alone carries the client as aud and the nonce).
    token.payload.fhirUser = context.fhirUser;
    if (context.email) token.payload.email = context.email;
    if ('emailVerified' in context) token.payload.email_verified = context.emailVerified;
    if (context.mode === 'other_aud') token.payload.aud = 'someone-else';
    if (context.mode === 'expired') {
      token.payload.iat -= 7200;
      token.payload.exp = Math.floor(Date.now() / 1000) - 3600;
    }
  } else if (token.payload.aud === undefined) {
    token.payload.aud = fhirBase; // a launch's access token is for the EHR's FHIR server
  }
});

auth.service.on('beforeResponse', async (response, req) => {
  const context = launchOfCode.get(req.body.code);
  if (!context || response.statusCode !== 200) return;
  launchOfCode.delete(req.body.code);
  if (strangerTokens.has(req.body.code)) response.body.id_token = strangerTokens.get(req.body.code);
  if (context.mode !== 'no_patient') response.body.patient = context.patient;
  if (context.encounter) response.body.encounter = context.encounter;
  response.body.need_patient_banner = context.banner !== false;
  if (context.appContext) response.body.appContext = context.appContext;
});

const keysUrl = `${authUrl}/jwks`;

// A SMART app written with the reference client library (npm fhirclient), served from this EHR's
// origin: it proves that this test EHR launches the way real SMART apps expect, so the tests of
// caresheet's own launch run against a faithful peer.
const CLIENT_JS = createRequire(import.meta.url).resolve('fhirclient/build/fhir-client.js');
const APP_PAGE = `<!doctype html><html><head><title>fhirclient app</title>
<script src="/fhir/_test/fhir-client.js"></script></head><body><script>
const query = new URLSearchParams(location.search);
if (query.has('code') || query.has('error')) {
  FHIR.oauth2.ready()
    .then((client) => client.request('Patient/' + client.patient.id)
      .then((patient) => { document.body.dataset.family = patient.name[0].family;
                           document.body.dataset.encounter = client.encounter.id || ''; }))
    .catch((error) => { document.body.dataset.error = String(error); });
} else {
  FHIR.oauth2.authorize({ iss: query.get('iss'), launch: query.get('launch'),
    clientId: 'fhirclient-app', scope: 'launch openid fhirUser patient/Patient.rs',
    redirectUri: '/fhir/_test/app.html', pkceMode: 'required' });
}
</script></body></html>`;
// Checked with node:crypto against the authorization server's own public keys: signature,
// issuer, audience (this FHIR server) and expiry.
function validAccess(header) {
  const token = (header || '').replace(/^Bearer /, '');
  const [head, body, signature] = token.split('.');
  if (!signature) return false;
  try {
    const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());
    const { kid, alg } = decode(head);
    const jwk = auth.issuer.keys.toJSON().find((k) => k.kid === kid);
    if (!jwk || jwk.alg !== alg) return false;
    const hash = { RS256: 'sha256', ES384: 'sha384' }[alg];
    const ok = crypto.verify(hash, Buffer.from(`${head}.${body}`),
      { key: crypto.createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'));
    const claims = decode(body);
    const audiences = [].concat(claims.aud);
    return ok && claims.iss === authUrl && audiences.includes(fhirBase)
      && claims.exp > Date.now() / 1000;
  } catch {
    return false;
  }
}

function send(res, status, body, type = 'application/fhir+json') {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

const outcome = (code, text) => ({
  resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }],
});

function bundle(resources) {
  return { resourceType: 'Bundle', type: 'searchset', total: resources.length,
    entry: resources.map((resource) => ({ resource })) };
}

fhir.on('request', async (req, res) => {
  const url = new URL(req.url, fhirBase);
  const path = url.pathname.replace(/^\/fhir/, '');
  if (path === '/_test/documents') return send(res, 200, documents, 'application/json');
  if (path === '/_test/log') return send(res, 200, log, 'application/json');
  if (path === '/_test/fhir-client.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript' });
    return res.end(fs.readFileSync(CLIENT_JS));
  }
  if (path === '/_test/app.html') {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    return res.end(APP_PAGE);
  }
  if (path === '/.well-known/smart-configuration') {
    return send(res, 200, {
      issuer: authUrl, jwks_uri: keysUrl,
      authorization_endpoint: `${authUrl}/authorize`, token_endpoint: `${authUrl}/token`,
      grant_types_supported: ['authorization_code'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['launch', 'launch/patient', 'openid', 'fhirUser',
        'patient/*.rs', 'patient/DocumentReference.cu'],
      response_types_supported: ['code'],
      capabilities: ['launch-ehr', 'launch-standalone', 'client-public',
        'client-confidential-symmetric', 'context-ehr-patient', 'context-ehr-encounter',
        'context-banner', 'sso-openid-connect', 'permission-v2'],
    }, 'application/json');
  }
  if (path === '/metadata') {
    return send(res, 200, {
      resourceType: 'CapabilityStatement', status: 'active', date: '2026-12-01',
      kind: 'instance', fhirVersion: '4.0.1', format: ['json'],
      rest: [{ mode: 'server', security: { extension: [{
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [{ url: 'authorize', valueUri: `${authUrl}/authorize` },
          { url: 'token', valueUri: `${authUrl}/token` }],
      }] } }],
    });
  }
  const ok = validAccess(req.headers.authorization);
  log.push({ method: req.method, path, ok });
  if (!ok) return send(res, 401, outcome('login', 'a valid access token is needed'));
  if (req.method === 'GET') {
    const [, kind, id] = path.split('/');
    const patient = url.searchParams.get('patient');
    if (kind === 'Patient' && id && CHART.patients?.[id]) return send(res, 200, CHART.patients[id]);
    if (kind === 'ServiceRequest' && !id) {
      return send(res, 200, bundle((CHART.orders || []).filter(
        (r) => r.subject.reference === `Patient/${patient}`)));
    }
    if (kind === 'Procedure' && !id) {
      return send(res, 200, bundle((CHART.procedures || []).filter(
        (r) => r.subject.reference === `Patient/${patient}`)));
    }
    return send(res, 404, outcome('not-found', 'no such resource'));
  }
  if (req.method === 'POST' && path === '/DocumentReference') {
    let text = '';
    for await (const chunk of req) text += chunk;
    const doc = JSON.parse(text);
    const subject = doc?.subject?.reference || '';
    if (CHART.refuseWritesFor?.includes(subject)) {
      return send(res, 403, outcome('forbidden', 'this chart is locked for new documents'));
    }
    doc.id = `doc-${documents.length + 1}`;
    documents.push(doc);
    res.setHeader('Location', `${fhirBase}/DocumentReference/${doc.id}/_history/1`);
    return send(res, 201, doc);
  }
  return send(res, 405, outcome('not-supported', 'not here'));
});

process.stdout.write(JSON.stringify({ auth: authUrl, fhir: fhirBase }) + '\n');
process.on('SIGTERM', async () => { await auth.stop(); fhir.close(); process.exit(0); });
