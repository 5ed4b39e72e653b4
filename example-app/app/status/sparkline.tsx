// A hand-drawn SVG line chart of recent samples: one polyline per series,
// all on the same vertical scale (0 to the pool's max).
export interface Series {
  label: string;
  color: string;
  values: number[];
  /** Wider lines go first, so a series drawn on top of another stays visible. */
  width?: number;
}

export function Sparkline({ series, max, width = 480, height = 90 }: { series: Series[]; max: number; width?: number; height?: number }) {
  const points = Math.max(2, ...series.map((s) => s.values.length));
  const top = Math.max(1, max);
  const x = (i: number) => (i / (points - 1)) * (width - 8) + 4;
  const y = (v: number) => height - 4 - (Math.min(v, top) / top) * (height - 8);
  return (
    <figure style={{ margin: 0 }}>
      <svg width={width} height={height} role="img" aria-label="pool connections over time" style={{ background: "#fff", border: "1px solid #e3e6ea" }}>
        <line x1={0} x2={width} y1={y(top)} y2={y(top)} stroke="#e3e6ea" strokeDasharray="4 4" />
        {[...series].sort((a, b) => (b.width ?? 2) - (a.width ?? 2)).map((s) => (
          <polyline
            key={s.label}
            fill="none"
            stroke={s.color}
            strokeWidth={s.width ?? 2}
            strokeLinejoin="round"
            points={s.values.map((v, i) => `${x(i + points - s.values.length).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
          />
        ))}
      </svg>
      <figcaption style={{ fontSize: 12 }}>
        {series.map((s) => (
          <span key={s.label} style={{ color: s.color, marginRight: 12 }}>
            ━ {s.label}
          </span>
        ))}
        <span>dashed: pool max ({max})</span>
      </figcaption>
    </figure>
  );
}
