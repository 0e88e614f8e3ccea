// The dashboard's shared x axis: the run's stages laid end to end (each stage's steps start where
// the previous stage's last logged step ended). The line charts and the MoE heat maps both use it,
// and both mark the stage boundaries with the plugin below.
import type { Chart, Plugin } from 'chart.js';
import type { MetricRecord, StageId } from '../../../server/src/protocol/messages';
import { STAGE_IDS } from '../stages';
import { themeColor } from './dom';

export interface StageAxis {
  /** Stages with records, in pipeline order. */
  order: StageId[];
  /** Where each stage starts on the axis. */
  offset: Map<StageId, number>;
  bounds: { x: number; stage: StageId }[];
  /** Where the last stage ends. */
  end: number;
}

/** `stages` holds each stage's records sorted by step (what the dashboard's `byStage` returns). */
export function stageAxis(stages: Map<StageId, MetricRecord[]>): StageAxis {
  const order = STAGE_IDS.filter((s) => stages.get(s)?.length);
  const offset = new Map<StageId, number>();
  const bounds: { x: number; stage: StageId }[] = [];
  let x = 0;
  for (const s of order) {
    offset.set(s, x);
    bounds.push({ x, stage: s });
    const list = stages.get(s)!;
    x += Math.max(1, list[list.length - 1].step);
  }
  return { order, offset, bounds, end: x };
}

export function stageAt(axis: StageAxis, x: number): { stage: StageId; step: number } | undefined {
  let found: { x: number; stage: StageId } | undefined;
  for (const b of axis.bounds) if (b.x <= x) found = b;
  return found && { stage: found.stage, step: x - found.x };
}

/** Dashed lines at the stage starts, each labelled with its stage; `axis` is read at draw time. */
export function boundaryPlugin(axis: () => StageAxis): Plugin<'line'> {
  return {
    id: 'r1StageBounds',
    afterDatasetsDraw(chart: Chart<'line'>) {
      const x = chart.scales.x;
      const area = chart.chartArea;
      if (!x || !area) return;
      const c = chart.ctx;
      c.save();
      c.strokeStyle = themeColor('--vscode-charts-lines', 'rgba(128,128,128,0.5)');
      c.fillStyle = themeColor('--vscode-descriptionForeground', '#888');
      c.font = '10px sans-serif';
      c.setLineDash([4, 3]);
      for (const b of axis().bounds) {
        const px = x.getPixelForValue(b.x);
        if (px < area.left - 1 || px > area.right + 1) continue;
        if (b.x > 0) {
          c.beginPath();
          c.moveTo(px, area.top);
          c.lineTo(px, area.bottom);
          c.stroke();
        }
        c.fillText(b.stage, px + 3, area.top + 10);
      }
      c.restore();
    },
  };
}
