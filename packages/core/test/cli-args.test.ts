import { PassThrough, Writable } from 'node:stream';
import { G2DError, UsageError, intOption, runCli, type CliSpec } from '../src';
import { captureCli } from '../src/testing';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream, text: () => text };
}

const run = (spec: CliSpec, argv: string[]) => captureCli((io) => runCli(spec, argv, { ...io, cwd: '/some/where' }));

const calls: unknown[] = [];
const SPEC: CliSpec = {
  name: 'g2d-test',
  version: '9.8.7',
  summary: 'a test bin',
  commands: {
    copy: {
      summary: 'copy a file',
      positionals: [{ name: 'in' }, { name: 'out', optional: true }],
      options: {
        size: { type: 'string', value: 'N', description: 'side' },
        quiet: { type: 'boolean', short: 'q', description: 'no progress' },
      },
      details: 'layout:\n  <root>/images/*.png',
      run({ values, positionals }, ctx) {
        calls.push({ values: { ...values }, positionals, file: ctx.resolvePath(positionals.in!) });
        const size = intOption(values, 'size', 256, { min: 1 });
        ctx.out(`size ${size}\n`);
        if (positionals.in === 'bad') throw new G2DError('corrupt', { source: 'bad' });
        if (positionals.in === 'usage') throw new UsageError('wrong');
        if (positionals.in === 'bug') throw new TypeError('x is undefined');
      },
    },
    many: {
      summary: 'takes many',
      positionals: [{ name: 'files', variadic: true }],
      run({ rest }, ctx) {
        ctx.out(rest.join(',') + '\n');
        return rest.length === 3 ? 0 : 1;
      },
    },
  },
};

describe('runCli: one argument convention for every bin', () => {
  beforeEach(() => (calls.length = 0));

  it('parses options and positionals, resolves paths against the caller\'s directory', async () => {
    const r = await run(SPEC, ['copy', 'a.png', '--size', '512', '-q']);
    expect(r).toEqual({ code: 0, out: 'size 512\n', err: '' });
    expect(calls[0]).toMatchObject({ values: { size: '512', quiet: true }, positionals: { in: 'a.png' }, file: '/some/where/a.png' });
    expect((await run(SPEC, ['copy', 'a.png', '--size=64'])).out).toBe('size 64\n');
    expect((await run(SPEC, ['many', 'a', 'b', 'c'])).out).toBe('a,b,c\n');
  });

  it('unknown options and stray arguments are usage errors (exit 2) that name them', async () => {
    const typo = await run(SPEC, ['copy', 'a.png', '--sise', '512']);
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/^g2d-test: unknown option --sise \(did you mean --size\?\)/);
    expect(calls).toHaveLength(0);
    const stray = await run(SPEC, ['copy', 'a', 'b', 'c']);
    expect(stray.code).toBe(2);
    expect(stray.err).toMatch(/unexpected argument "c"/);
    const bogus = await run(SPEC, ['copy', 'a', 'b', '--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.err).toMatch(/unknown option --bogus/);
    expect((await run(SPEC, ['copy'])).err).toMatch(/missing argument <in>/);
    expect((await run(SPEC, ['copy', 'a', '--size'])).err).toMatch(/option --size needs a value/);
    expect((await run(SPEC, ['copy', 'a', '--size', '--quiet'])).err).toMatch(/option --size needs a value/);
    expect((await run(SPEC, ['copy', 'a', '--quiet=yes'])).err).toMatch(/option --quiet does not take a value/);
    expect((await run(SPEC, ['copy', 'a', '--size', 'big'])).err).toMatch(/option --size must be an integer >= 1, got "big"/);
    const cmd = await run(SPEC, ['cpy']);
    expect(cmd.code).toBe(2);
    expect(cmd.err).toMatch(/unknown command "cpy" \(did you mean "copy"\?\); commands: copy, many/);
    expect((await run(SPEC, ['--frobnicate'])).code).toBe(2);
  });

  it('--help per command, help <command>, --version; no arguments prints the help to stderr with exit 2', async () => {
    const h = await run(SPEC, ['copy', 'x', '--bogus', '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^usage: g2d-test copy <in> \[<out>\] \[options\]/);
    expect(h.out).toContain('--size N');
    expect(h.out).toContain('<root>/images/*.png');
    expect((await run(SPEC, ['help', 'copy'])).out).toBe(h.out);
    const top = await run(SPEC, ['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/commands:\n {2}copy +copy a file\n {2}many +takes many/);
    expect(top.out).toContain('exit codes: 0 ok, 1 bad input or data, 2 usage error');
    expect(await run(SPEC, ['--version'])).toEqual({ code: 0, out: 'g2d-test 9.8.7\n', err: '' });
    const none = await run(SPEC, []);
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toContain('commands:');
  });

  it('exit codes: bad data 1, usage 2, a command\'s own code; an internal error says so', async () => {
    const bad = await run(SPEC, ['copy', 'bad']);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('g2d-test: bad: corrupt\n');
    const usage = await run(SPEC, ['copy', 'usage']);
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/^g2d-test: wrong\n\(g2d-test copy --help for usage\)/);
    expect((await run(SPEC, ['many', 'a'])).code).toBe(1);
    const bug = await run(SPEC, ['copy', 'bug']);
    expect(bug.code).toBe(1);
    expect(bug.err).toMatch(/internal error \(please report it\): TypeError: x is undefined/);
  });

  it('a single-command bin takes its options without the command name', async () => {
    const spec: CliSpec = {
      name: 'g2d-one', version: '1.0.0', summary: 'one', defaultCommand: 'report',
      commands: { report: { summary: 'report', options: { backend: { type: 'string', description: 'b' } }, run: ({ values }, ctx) => ctx.out(`${values.backend}\n`) } },
    };
    expect((await run(spec, ['--backend', 'cpu'])).out).toBe('cpu\n');
    expect((await run(spec, ['report', '--backend', 'wasm'])).out).toBe('wasm\n');
    expect((await run(spec, ['--help'])).out).toMatch(/^usage: g2d-one/);
    const stray = await run(spec, ['reprot']);
    expect(stray.code).toBe(2);
    expect(stray.err).toMatch(/unexpected argument "reprot"/);
  });

  it('stdout closed by the reader (EPIPE) ends the run quietly with 0', async () => {
    let writes = 0;
    const closed = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const err = sink();
    let stop = false;
    const spec: CliSpec = {
      name: 'g2d-pipe', version: '1', summary: 'pipe',
      commands: {
        spam: {
          summary: 'prints forever',
          async run(_a, ctx) {
            for (let i = 0; i < 1e6 && !stop; i++) await ctx.outAsync(`line ${i}\n`);
            return 3;
          },
        },
      },
    };
    const code = await runCli(spec, ['spam'], { stdout: closed, stderr: err.stream });
    stop = true;
    expect(code).toBe(0);
    expect(err.text()).toBe('');
    expect(writes).toBeGreaterThan(0);
  });
});
