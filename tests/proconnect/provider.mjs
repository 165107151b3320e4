// A local OpenID provider standing in for ProConnect, for tests and development only.
//
// It is npm's `oidc-provider` (a certified OpenID Connect implementation) configured as
// ProConnect answers a service provider: authorization code flow with PKCE (S256) required,
// client authentication by `client_secret_post`, `state` and `nonce` of at least 32
// characters, ID token signed with RS256, the identity's claims (email, given_name,
// usual_name, siret, siren, uid, idp_id) given by the userinfo endpoint only, as a signed
// JWT (`application/jwt`). No consent screen: ProConnect asks for none.
//
// Usage: node tests/proconnect/provider.mjs [port]          (or PROCONNECT_PORT, default 9090)
//   PROCONNECT_REDIRECT_URIS  comma-separated redirect URIs the client may use
//                             (default: http://127.0.0.1:8000/proconnect/callback/ and the
//                             same on localhost)
//
// Clients, both with the secret "alliance-dev-secret":
//   alliance-dev       userinfo as a signed JWT, as ProConnect sends it;
//   alliance-dev-json  userinfo as plain JSON, as most OpenID providers send it.
//
// Sign-in page: one text field, « Identifiant », where you type
//   email|SIREN|NIC[|given name|usual name]
// e.g. `marie@mairie-toulouse.fr|213105554|00012` signs in Marie Dupont with the SIRET
// 21310555400012. Without names, the given name comes from the email's local part (before
// the first dot) and the usual name from what follows it, or « Dupont ». « Annuler » sends
// the person back with `error=access_denied`. The provider asks each time (no single sign-on)
// so that another account can be tried at once. Everything lives in memory: a restart
// forgets sessions and tokens and draws a new signing key.

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider, { interactionPolicy } from 'oidc-provider';

const HOST = '127.0.0.1';
const port = Number(process.env.PROCONNECT_PORT || process.argv[2] || 9090);
const issuer = `http://${HOST}:${port}`;
const redirectUris = (
  process.env.PROCONNECT_REDIRECT_URIS
  || 'http://127.0.0.1:8000/proconnect/callback/,http://localhost:8000/proconnect/callback/'
).split(',').map((uri) => uri.trim()).filter(Boolean);
const SECRET = 'alliance-dev-secret';
const IDP_ID = 'stand-in-local';
// ProConnect refuses a `state` or `nonce` shorter than this.
const MIN_RANDOM_LENGTH = 32;

// Accounts signed in since the start, by `sub`: ProConnect's subject is an opaque identifier.
const accounts = new Map();

function capitalise(word) {
  return word.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('-');
}

// Returns [account, null] or [null, French error message].
function parseLogin(login) {
  const [email = '', siren = '', nic = '', givenName, usualName] = login
    .split('|')
    .map((part) => part.trim());
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    return [null, 'Le premier champ doit être une adresse électronique.'];
  }
  if (!/^\d{9}$/.test(siren) || !/^\d{5}$/.test(nic)) {
    return [null, 'Il faut un SIREN de 9 chiffres et un NIC de 5 chiffres, séparés par « | ».'];
  }
  const words = email.split('@')[0].split('.').filter(Boolean);
  const sub = createHash('sha256').update(`${email.toLowerCase()}|${siren}${nic}`).digest('hex');
  return [{
    sub,
    email,
    given_name: givenName || capitalise(words[0] || 'Marie'),
    usual_name: usualName || (words.length > 1 ? capitalise(words.slice(1).join(' ')) : 'Dupont'),
    siret: `${siren}${nic}`,
    siren,
    uid: email.toLowerCase(),
    idp_id: IDP_ID,
  }, null];
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

// Ask for the login every time, unless this very interaction has just given it.
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check(
  'stand_in_always',
  'the stand-in asks for an account at each sign-in',
  (ctx) => (ctx.oidc.result?.login
    ? interactionPolicy.Check.NO_NEED_TO_PROMPT
    : interactionPolicy.Check.REQUEST_PROMPT),
));

const client = (clientId, extra) => ({
  client_id: clientId,
  client_secret: SECRET,
  redirect_uris: redirectUris,
  response_types: ['code'],
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_post',
  id_token_signed_response_alg: 'RS256',
  ...extra,
});

function htmlEscape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlEscape(title)} — ProConnect (local)</title></head>
<body>
<main>
<h1>${htmlEscape(title)}</h1>
${body}
</main>
</body>
</html>`;
}

const provider = new Provider(issuer, {
  clients: [
    client('alliance-dev', { userinfo_signed_response_alg: 'RS256' }),
    client('alliance-dev-json', {}),
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
    siret: ['siret'],
    siren: ['siren'],
    uid: ['uid'],
    idp_id: ['idp_id'],
  },
  features: {
    devInteractions: { enabled: false },
    jwtUserinfo: { enabled: true },
  },
  pkce: { required: () => true },
  interactions: {
    policy,
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  // ProConnect shows no consent screen: grant what the client asked for.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    const grant = (grantId && await oidc.provider.Grant.find(grantId))
      || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
    grant.addOIDCScope([...oidc.requestParamScopes].join(' '));
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ ...account }) };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Erreur', Object.entries(out)
      .map(([key, value]) => `<p><strong>${htmlEscape(key)}</strong> : ${htmlEscape(value)}</p>`)
      .join('\n'));
  },
});

function loginPage(uid, { error = '', value = '' } = {}) {
  return page('Connexion avec ProConnect (fournisseur local de test)', `
<p>Fournisseur d'identité de développement : aucun mot de passe. Saisissez
<code>courriel|SIREN|NIC</code>, et si vous le voulez <code>|prénom|nom</code>.</p>
${error ? `<p role="alert">${htmlEscape(error)}</p>` : ''}
<form method="post" action="/interaction/${htmlEscape(uid)}/login">
  <label for="login">Identifiant</label>
  <input id="login" name="login" type="text" required autocomplete="off" value="${htmlEscape(value)}"
    placeholder="marie@mairie-toulouse.fr|213105554|00012">
  <button type="submit">Se connecter</button>
</form>
<form method="post" action="/interaction/${htmlEscape(uid)}/abort">
  <button type="submit">Annuler</button>
</form>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) break;
  }
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, page('Erreur', '<p>Interaction inconnue.</p>'));
    return;
  }
  if (action === 'abort' && req.method === 'POST') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: "L'usager a annulé la connexion.",
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'login' && req.method === 'POST') {
    const login = (await readForm(req)).get('login') || '';
    const [account, error] = parseLogin(login);
    if (error) {
      send(res, 400, loginPage(uid, { error, value: login }));
      return;
    }
    accounts.set(account.sub, account);
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }
  if (!action && req.method === 'GET') {
    send(res, 200, loginPage(uid, { value: details.params.login_hint || '' }));
    return;
  }
  send(res, 405, page('Erreur', '<p>Méthode non permise.</p>'));
}

const handle = provider.callback();

const server = createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    const match = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
    if (match) {
      await interaction(req, res, match[1], match[2]);
      return;
    }
    if (url.pathname === '/auth') {
      const short = ['state', 'nonce'].filter(
        (name) => (url.searchParams.get(name) || '').length < MIN_RANDOM_LENGTH,
      );
      if (short.length) {
        send(res, 400, page('Erreur', `<p>Paramètre trop court ou absent (${short.join(', ')}) :
          au moins ${MIN_RANDOM_LENGTH} caractères, comme l'exige ProConnect.</p>`));
        return;
      }
    }
    handle(req, res);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) send(res, 400, page('Erreur', `<p>${htmlEscape(error.message)}</p>`));
  }
});

server.listen(port, HOST, () => {
  console.log(`ProConnect stand-in listening on ${issuer}`);
  console.log(`Redirect URIs: ${redirectUris.join(', ')}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
