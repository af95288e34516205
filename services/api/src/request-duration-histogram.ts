import type { Histogram, Registry } from 'prom-client';

/** One label set's counts: observations per bucket (the last one past every bound), sum, count. */
interface Series {
  labels: { method: string; route: string; status_code: string };
  perBucket: number[];
  sum: number;
  count: number;
}

/** One exposed sample, in the shape prom-client's registry formats (`MetricObjectWithValues`). */
interface Sample {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
  /** null on buckets, absent on sum and count, as prom-client has it. */
  exemplar?: null;
}

interface Exposed {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: Sample[];
}

/**
 * A histogram labelled by method, route and status code, observed once per request. It exposes
 * what a prom-client `Histogram` with the same name, help, labels and buckets exposes (a unit test
 * compares the two texts), through the same registry. A prom-client histogram validates and
 * joins the labels into a key and builds a closure on every observation, about 0.3 µs per
 * request; this one finds its series in three small maps (route, status code, method) keyed by
 * values fastify hands over as they are, and adds to an array.
 */
export class RequestDurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames = ['method', 'route', 'status_code'] as const;
  /** The bucket bounds, ascending (named as on a prom-client histogram, where the metrics reference reads them). */
  readonly upperBounds: readonly number[];
  #series = new Map<string, Map<number, Map<string, Series>>>();
  /** Every series in the order first observed, the order a prom-client histogram exposes them in. */
  #all: Series[] = [];

  constructor(options: { name: string; help: string; buckets: readonly number[]; registers: Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.upperBounds = [...options.buckets].sort((a, b) => a - b);
    // The registry asks only for what a metric exposes (name, get, reset); it takes any of its metric classes.
    for (const registry of options.registers) registry.registerMetric(this as unknown as Histogram);
  }

  observe(method: string, route: string, statusCode: number, seconds: number): void {
    let byStatus = this.#series.get(route);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.#series.set(route, byStatus);
    }
    let byMethod = byStatus.get(statusCode);
    if (byMethod === undefined) {
      byMethod = new Map();
      byStatus.set(statusCode, byMethod);
    }
    let series = byMethod.get(method);
    if (series === undefined) {
      series = {
        labels: { method, route, status_code: String(statusCode) },
        perBucket: new Array(this.upperBounds.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      byMethod.set(method, series);
      this.#all.push(series);
    }
    let i = 0;
    while (i < this.upperBounds.length && seconds > this.upperBounds[i]!) i++;
    series.perBucket[i]!++;
    series.sum += seconds;
    series.count++;
  }

  /** What the registry formats as text: per series, cumulative buckets, +Inf, sum and count. */
  getForPromString(): Exposed {
    const values: Sample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.#all) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.perBucket[i]!;
        values.push({ labels: { le }, sharedLabels: s.labels, value: cumulative, metricName: bucketName, exemplar: null });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucketName, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The same as JSON (`getMetricsAsJSON`): each sample's labels with its series' labels. */
  get(): Omit<Exposed, 'values'> & { values: Omit<Sample, 'sharedLabels'>[] } {
    const exposed = this.getForPromString();
    const values = exposed.values.map(({ sharedLabels, labels, ...sample }) => ({ ...sample, labels: { ...labels, ...sharedLabels } }));
    return { ...exposed, values };
  }

  reset(): void {
    this.#series = new Map();
    this.#all = [];
  }
}
