// `darezone create-admin --email E`: creates a platform admin, or promotes an existing account
// (whose password then stays as it is). The password is read from standard input — typed without
// echo on a terminal, or the first line of a pipe — never from argv, where `ps` and shell history
// would show it.
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/open.js';
import { AppError } from '../errors.js';
import { createPasswordHasher } from '../modules/auth/passwords.js';
import { normaliseEmail, provisionAdmin } from '../modules/auth/service.js';
import { systemClock } from '../plugins/core.js';

/** The first line of piped input (without its line ending). */
async function readFirstLine(stream: NodeJS.ReadStream): Promise<string> {
  stream.setEncoding('utf8'); // decodes characters split across chunks correctly
  let data = '';
  for await (const chunk of stream) {
    data += String(chunk);
    const end = data.indexOf('\n');
    if (end >= 0) return data.slice(0, end).replace(/\r$/, '');
  }
  return data.replace(/\r$/, '');
}

// Keys typed ahead of a prompt may arrive in the same chunk as the previous line's Enter.
let typedAhead = '';

/** Reads a line on a terminal in raw mode, echoing nothing. Ctrl-C and Ctrl-D cancel. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    /** True once the line is complete. */
    const consume = (text: string): boolean => {
      const chars = [...text];
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i]!;
        if (ch === '\r' || ch === '\n') {
          typedAhead = chars.slice(i + 1).join('').replace(/^\n/, '');
          finish();
          return true;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish(new Error('cancelled'));
          return true;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
      return false;
    };
    const onData = (chunk: Buffer) => void consume(chunk.toString('utf8'));
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
    const pending = typedAhead;
    typedAhead = '';
    consume(pending);
  });
}

export async function readPassword(email: string): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await promptHidden(`New password for ${email}: `);
    const second = await promptHidden('Repeat it: ');
    if (first !== second) throw new Error('the two passwords differ');
    return first;
  }
  const line = await readFirstLine(process.stdin);
  if (line === '') throw new Error('no password on standard input (pipe it in, or run on a terminal to be prompted)');
  return line;
}

/** AppErrors name the field in `errors`; an operator wants "--email is not a valid email address". */
function operatorMessage(err: unknown): unknown {
  if (!(err instanceof AppError)) return err;
  const first = err.options.errors?.[0];
  return new Error(first && !err.message.startsWith(first.path) ? `${first.path} ${first.message}` : err.message);
}

export function registerCreateAdminCommand(program: Command): void {
  program
    .command('create-admin')
    .description('create a platform admin, or promote an existing account; the password is read from stdin')
    .requiredOption('--email <email>', "the admin's email address")
    .action(async (opts: { email: string }) => {
      const config = loadConfig();
      let email: string;
      try {
        email = normaliseEmail(opts.email, '--email'); // before opening the database: a typo fails fast
      } catch (err) {
        throw operatorMessage(err);
      }
      const opened = await openDatabase(config);
      try {
        const hasher = await createPasswordHasher(config);
        const result = await provisionAdmin({ db: opened.db, clock: systemClock, hasher }, email, () => readPassword(email));
        process.stdout.write(
          result.created
            ? `created admin ${result.email} (${result.id})\n`
            : `promoted ${result.email} (${result.id}) to admin; password unchanged\n`,
        );
      } catch (err) {
        throw operatorMessage(err);
      } finally {
        await opened.close();
      }
    });
}
