// The step every subcommand starts with: parse its arguments, and stop there
// with the right exit status when they are wrong or ask for help.

export interface HelpIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/**
 * The parsed arguments, or the exit status once a usage error (2, message
 * then `help` on stderr) or `--help` (0, `help` on stdout) has been printed.
 */
export function parsedOrHelp<T extends { values: { help?: boolean | undefined } }>(
  parse: () => T,
  io: HelpIo,
  help: string,
): T | number {
  let parsed: T;
  try {
    parsed = parse();
  } catch (err) {
    io.stderr.write(`mtasts: ${err instanceof Error ? err.message : String(err)}\n\n${help}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(help);
    return 0;
  }
  return parsed;
}
