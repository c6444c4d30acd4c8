// What the client checks share: posting an operation, and a front-desk
// account to act as (created by the admin once; later runs sign in again).

/** Posts one operation to BASE/graphql and returns the parsed answer. */
export async function post(base, query, variables, token) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

/** An access token of a front-desk account the admin creates if needed. */
export async function frontDeskToken(base, adminToken) {
  const email = "ci-front-desk@clinic.test";
  const password = "front desk passphrase";
  await post(
    base,
    `mutation CreateFrontDesk($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`,
    { input: { displayName: "CI Front Desk", email, password, role: "FRONT_DESK" } },
    adminToken,
  );
  const login = await post(
    base,
    `mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }`,
    { input: { email, password } },
  );
  const token = login.data?.login?.accessToken;
  if (!token) throw new Error(`front desk login failed: ${JSON.stringify(login)}`);
  return token;
}
