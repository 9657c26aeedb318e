import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CompletionSeries } from './outcome-series.js';

/** One colour per provider, in order; distinct for the common kinds of colour blindness. */
const COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'];
const HEIGHT = 280;

/**
 * The completion rate per provider over time, drawn by uPlot on a canvas; the figures are
 * also in the table below it, which is what a screen reader reads.
 */
export function CompletionChart({ series, period }: { series: CompletionSeries; period: 'hour' | 'day' }) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = box.current!;
    const options: uPlot.Options = {
      width: element.clientWidth,
      height: HEIGHT,
      // Hours are UTC, as everywhere in the console.
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
      scales: { y: { range: [0, 1] } },
      axes: [{}, { values: (_chart, ticks) => ticks.map((tick) => `${Math.round(tick * 100)} %`) }],
      series: [
        { label: `${period} (UTC)`, value: (_chart: uPlot, seconds: number | null) => (seconds === null ? '–' : new Date(seconds * 1000).toISOString().slice(0, period === 'day' ? 10 : 13).replace('T', ' ')) },
        ...series.rates.map(({ provider }, index) => ({
          label: provider,
          stroke: COLOURS[index % COLOURS.length],
          width: 2,
          spanGaps: false,
          points: { show: true, size: 8, fill: COLOURS[index % COLOURS.length] },
          value: (_chart: uPlot, rate: number | null) => (rate === null ? '–' : `${(rate * 100).toFixed(1)} %`),
        })),
      ],
    };
    const chart = new uPlot(options, [series.starts, ...series.rates.map((rate) => rate.values)] as uPlot.AlignedData, element);
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [series, period]);

  return <div ref={box} class="chart" role="img" aria-label={`Completion rate per provider, by ${period} (the table below has the figures)`} />;
}
