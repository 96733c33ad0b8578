// A uPlot chart (bundled from npm) with its data as a table for screen readers and keyboards.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartProps {
  title: string;
  /** Category labels (days, specialties...). */
  labels: string[];
  series: { label: string; values: number[]; color: string }[];
  kind: "bars" | "line";
  tableCaption: string;
}

const HEIGHT = 220;

export function Chart({ title, labels, series, kind, tableCaption }: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const xs = labels.map((_, i) => i);
    const longest = Math.max(0, ...labels.map((l) => l.length));
    const slanted = kind === "bars" && longest * 7 * labels.length > el.clientWidth;
    const paths = kind === "bars" ? uPlot.paths.bars!({ size: [0.7, 40] }) : undefined;
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 240),
        height: HEIGHT,
        legend: { show: series.length > 1 },
        scales: { x: { time: false } },
        axes: [
          // Long category names (specialties, cities) are slanted: level, they overlap.
          slanted
            ? { values: (_, ticks) => ticks.map((t) => labels[t] ?? ""), rotate: -35, size: Math.min(30 + longest * 5, 110) }
            : { values: (_, ticks) => ticks.map((t) => labels[t] ?? "") },
          { size: 48 },
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            fill: kind === "bars" ? s.color : undefined,
            width: kind === "bars" ? 0 : 2,
            ...(paths ? { paths } : {}),
          })),
        ],
      },
      [xs, ...series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 240), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [labels, series, kind]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={host} class="chart-canvas" role="img" aria-label={title} />
      <details>
        <summary>{tableCaption}</summary>
        <table class="admin-table">
          <thead>
            <tr>
              <th scope="col">{title}</th>
              {series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((label, i) => (
              <tr key={label}>
                <th scope="row">{label}</th>
                {series.map((s) => (
                  <td key={s.label}>{s.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
