/** A unified diff as side-by-side rows: removed lines on the left, added on the right, paired in order. */
export interface DiffRow { kind: 'context' | 'change' | 'hunk'; left?: { n: number; text: string; removed: boolean }; right?: { n: number; text: string; added: boolean }; text?: string }
export interface DiffFile { path: string; rows: DiffRow[]; additions: number; deletions: number }

export function parseUnifiedDiff(diff: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | undefined;
  let ln = 0; let rn = 0;
  let removed: Array<{ n: number; text: string }> = [];
  let added: Array<{ n: number; text: string }> = [];
  const flush = () => {
    if (!file) return;
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      const l = removed[i]; const r = added[i];
      file.rows.push({ kind: 'change', left: l && { ...l, removed: true }, right: r && { ...r, added: true } });
    }
    removed = []; added = [];
  };
  for (const line of diff.split('\n')) {
    if (line.startsWith('diff --git ')) {
      flush();
      const m = / b\/(.+)$/.exec(line);
      file = { path: m ? m[1] : line.slice(11), rows: [], additions: 0, deletions: 0 };
      files.push(file);
      continue;
    }
    if (!file) continue;
    if (line.startsWith('+++ ') || line.startsWith('--- ') || line.startsWith('index ') || /^(new|deleted) file mode|^similarity|^rename |^old mode|^new mode|^Binary/.test(line)) {
      if (line.startsWith('Binary')) file.rows.push({ kind: 'hunk', text: line });
      continue;
    }
    const h = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(line);
    if (h) { flush(); ln = Number(h[1]); rn = Number(h[2]); file.rows.push({ kind: 'hunk', text: line }); continue; }
    if (line.startsWith('-')) { removed.push({ n: ln++, text: line.slice(1) }); file.deletions++; continue; }
    if (line.startsWith('+')) { added.push({ n: rn++, text: line.slice(1) }); file.additions++; continue; }
    if (line.startsWith('\\')) continue;
    if (line.startsWith(' ') || line === '') {
      flush();
      if (line === '' ) continue;
      file.rows.push({ kind: 'context', left: { n: ln++, text: line.slice(1), removed: false }, right: { n: rn++, text: line.slice(1), added: false } });
    }
  }
  flush();
  return files;
}
