// parseDf over real `df -P -B1` output: this machine's, and hand-written ones for the odd cases.
import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { parseDf } from '../../src/host/disk.js';

const HEADER = 'Filesystem         1-blocks        Used   Available Capacity Mounted on';

describe('parseDf on this machine', () => {
  const out = execFileSync('df', ['-P', '-B1', '--', '/'], { encoding: 'utf8' });

  it('reads the root filesystem', () => {
    const u = parseDf(out);
    expect(u).toBeDefined();
    expect(u!.mount).toBe('/');
    for (const n of [u!.totalBytes, u!.usedBytes, u!.freeBytes]) {
      expect(Number.isInteger(n)).toBe(true);
      expect(n).toBeGreaterThanOrEqual(0);
    }
    expect(u!.totalBytes).toBeGreaterThan(0);
  });

  it('the numbers are df’s own columns, in bytes', () => {
    const cols = out.trim().split('\n')[1]!.trim().split(/\s+/);
    const u = parseDf(out)!;
    expect([u.totalBytes, u.usedBytes, u.freeBytes]).toEqual([
      Number(cols[1]),
      Number(cols[2]),
      Number(cols[3]),
    ]);
  });

  it('agrees with statfs on the size of the filesystem', () => {
    const s = statfsSync('/');
    const u = parseDf(out)!;
    // df counts in fragments and statfs reports bsize; allow one block of difference per million.
    expect(Math.abs(u.totalBytes - s.blocks * s.bsize)).toBeLessThanOrEqual(
      Math.max(s.bsize, u.totalBytes / 1e6),
    );
  });
});

describe('parseDf on written-out outputs', () => {
  it('GNU coreutils output for an ext4 root', () => {
    const out = `${HEADER}\n/dev/vda1      270553174016 30450348032 78493945856      28% /\n`;
    expect(parseDf(out)).toEqual({
      totalBytes: 270553174016,
      usedBytes: 30450348032,
      freeBytes: 78493945856,
      mount: '/',
    });
  });

  it('a mount point with spaces is kept whole', () => {
    const out = `${HEADER}\n/dev/sdb1      1000204886016 400081954406 600122931610      40% /media/backup drive 2\n`;
    expect(parseDf(out)).toEqual({
      totalBytes: 1000204886016,
      usedBytes: 400081954406,
      freeBytes: 600122931610,
      mount: '/media/backup drive 2',
    });
  });

  it('a mount point with several spaces in a row is kept as df printed it', () => {
    const out = `${HEADER}\n/dev/sdc1 1000 400 600 40% /mnt/My  Disk\n`;
    expect(parseDf(out)!.mount).toBe('/mnt/My  Disk');
  });

  it('the last line is the filesystem asked about (df given a path prints one)', () => {
    const out = `${HEADER}\noverlay 100 60 40 60% /\n/dev/vdb 2000 500 1500 25% /var/lib/docker\n`;
    expect(parseDf(out)).toEqual({
      totalBytes: 2000,
      usedBytes: 500,
      freeBytes: 1500,
      mount: '/var/lib/docker',
    });
  });

  it('busybox df -P -B1 (a Use% header)', () => {
    const out =
      'Filesystem           1-blocks      Used Available Use% Mounted on\n/dev/root            8154820608 5131460608 2587369472  66% /\n';
    expect(parseDf(out)).toEqual({
      totalBytes: 8154820608,
      usedBytes: 5131460608,
      freeBytes: 2587369472,
      mount: '/',
    });
  });

  it('tabs between columns, CRLF and surrounding blank lines are tolerated', () => {
    const out = `\n${HEADER}\r\n/dev/vda1\t100\t40\t60\t40%\t/srv\r\n\n`;
    expect(parseDf(out)).toEqual({ totalBytes: 100, usedBytes: 40, freeBytes: 60, mount: '/srv' });
  });

  it('a filesystem filled into its reserved blocks: a negative Available (GNU df) is read, not dropped', () => {
    const out = `${HEADER}\n/dev/vda1 1000 999 -49 101% /\n`;
    expect(parseDf(out)).toEqual({ totalBytes: 1000, usedBytes: 999, freeBytes: -49, mount: '/' });
  });

  it.each([
    ['empty', ''],
    ['only whitespace', ' \n\n '],
    ['only the header', `${HEADER}\n`],
    ['an error instead of a table', 'df: /nope: No such file or directory\n'],
    ['an error after the header', `${HEADER}\ndf: /nope: No such file or directory\n`],
    ['too few columns', `${HEADER}\n/dev/vda1 100 40 60\n`],
    ['no mount point', `${HEADER}\n/dev/vda1 100 40 60 40%\n`],
    ['a size that is not a number', `${HEADER}\n/dev/vda1 100 forty 60 40% /\n`],
    ['human-readable sizes (no -B1)', `${HEADER}\n/dev/vda1 252G 29G 74G 28% /\n`],
    ['a size with a unit suffix', `${HEADER}\n/dev/vda1 100K 40 60 40% /\n`],
    ['dashes instead of sizes', `${HEADER}\nproc - - - - /proc\n`],
  ])('malformed: %s → undefined', (_, out) => {
    expect(parseDf(out)).toBeUndefined();
  });
});
