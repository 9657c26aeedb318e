import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/**
 * A command's arguments parsed with `node:util`'s `parseArgs` (strict: an unknown option is
 * refused), or null after writing the reason and the usage to `err`: the command then exits 2.
 */
export function parseArguments<O extends Options>(args: string[], options: O, usage: string, err: (line: string) => void): Parsed<O> | null {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    err(`${(error as Error).message}\nusage: ${usage}`);
    return null;
  }
}
