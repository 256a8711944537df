// Auth request and response shapes (§4: the mobile client's contract; unknown fields are refused).
// Password rules (10–128 characters, not a common password) are checked by the service so that
// every violation answers with one code, 422 WEAK_PASSWORD; the schema only bounds the size.
import { Type, type Static } from 'typebox';
import { OwnProfile } from '../users/schemas.js';

const Email = Type.String({ minLength: 3, maxLength: 320, description: 'Trimmed and lowercased; unique case-insensitively' });
// 1024 bounds the hashing work per request; the policy limit (128) is the service's.
const Password = (description: string) => Type.String({ minLength: 1, maxLength: 1024, description });
const RefreshToken = Type.String({ minLength: 1, maxLength: 512, description: 'The opaque refresh token from sign-up, login or the last refresh' });

export const SignupBody = Type.Object(
  {
    email: Email,
    password: Password('10–128 characters, not a common password'),
    display_name: Type.String({ minLength: 1, maxLength: 50, description: '1–50 characters, trimmed' }),
  },
  { additionalProperties: false },
);
export type Signup = Static<typeof SignupBody>;

export const LoginBody = Type.Object({ email: Email, password: Password('The account password') }, { additionalProperties: false });
export type Login = Static<typeof LoginBody>;

export const RefreshBody = Type.Object({ refresh_token: RefreshToken }, { additionalProperties: false });

export const LogoutBody = Type.Object(
  {
    refresh_token: Type.Optional(RefreshToken),
    all_sessions: Type.Optional(Type.Boolean({ default: false, description: 'End every session of the account, on every device' })),
  },
  { additionalProperties: false },
);
export type Logout = Static<typeof LogoutBody>;

export const PasswordBody = Type.Object(
  {
    current_password: Password('The password in use now'),
    new_password: Password('10–128 characters, not a common password, different from the current one'),
  },
  { additionalProperties: false },
);
export type PasswordChange = Static<typeof PasswordBody>;

const tokenFields = {
  access_token: Type.String({ description: 'JWT (HS256) for `Authorization: Bearer …`' }),
  refresh_token: Type.String({ description: 'Opaque; single use — each refresh returns a new one' }),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'Access-token lifetime in seconds' }),
};

export const TokenPair = Type.Object(tokenFields, { additionalProperties: false });
export const Session = Type.Object({ user: OwnProfile, ...tokenFields }, { additionalProperties: false });

export const NoContent = Type.Null({ description: 'No content' });
