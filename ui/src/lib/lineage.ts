/** Lays out a version DAG for drawing: one row per version (newest first), one column per line
 *  of descent. Each lane waits for a version id; a version takes the lane waiting for it (or a
 *  free one) and hands it to its first parent; other parents open lanes of their own. */
export interface Node {
  id: string;
  parents: string[];
}

export interface Placed {
  id: string;
  row: number;
  col: number;
}

export interface Edge {
  from: string;
  to: string;
}

export interface Layout {
  placed: Placed[];
  edges: Edge[];
  columns: number;
}

export function layout(nodes: Node[]): Layout {
  const lanes: (string | null)[] = [];
  const placed: Placed[] = [];
  const known = new Set(nodes.map((n) => n.id));
  const edges: Edge[] = [];
  nodes.forEach((n, row) => {
    let col = lanes.indexOf(n.id);
    if (col < 0) {
      col = lanes.indexOf(null);
      if (col < 0) {
        lanes.push(null);
        col = lanes.length - 1;
      }
    }
    for (let i = 0; i < lanes.length; i++) if (i !== col && lanes[i] === n.id) lanes[i] = null;
    placed.push({ id: n.id, row, col });
    const parents = n.parents.filter((p) => known.has(p));
    lanes[col] = parents[0] ?? null;
    for (const p of parents.slice(1)) {
      if (!lanes.includes(p)) {
        const free = lanes.indexOf(null);
        if (free >= 0) lanes[free] = p;
        else lanes.push(p);
      }
    }
    for (const p of parents) edges.push({ from: n.id, to: p });
    while (lanes.length && lanes[lanes.length - 1] === null) lanes.pop();
  });
  const columns = Math.max(1, ...placed.map((p) => p.col + 1));
  return { placed, edges, columns };
}
