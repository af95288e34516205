import type { ProjectSettings } from '@eap/core';
import { detectBot } from './bot-detection.ts';
import { isPublicAddress, unmapIpv4 } from './client-ip.ts';
import type { Geo, GeoLookup } from './geoip.ts';
import { createLruCache } from './lru-cache.ts';
import { type ParsedUserAgent, parseUserAgent } from './user-agent.ts';

/** What the server adds to an event's stored context. */
export interface AddedContext extends ParsedUserAgent {
  ip?: string;
  user_agent?: string;
  geo?: Geo;
  bot?: { name: string };
}

/** One key the server adds to a stored context, with its `"key":value` JSON already written. */
export interface AddedField {
  key: keyof AddedContext;
  json: string;
}

export interface Enrichment {
  /** Context keys to add, each serialized once; empty when there are none. */
  fields: readonly AddedField[];
  /** True when the user agent is a bot's (and the project filters bots). */
  isBot: boolean;
}

/** The enrichment of one request, computed once and used for each of its events. */
export interface RequestEnrichment extends Enrichment {
  /** The fields as one context object's JSON, so events without a context of their own splice it in as is. */
  contextJson: string | undefined;
  /** The project's store_ip: when false, no IP is stored, not even one an event names. */
  storeIp: boolean;
  /**
   * The enrichment of an event that names its own `context.ip` and/or `context.user_agent` (a
   * server forwarding its user's event): those replace the request's own.
   */
  forEvent(ip: string | undefined, userAgent: string | undefined): Enrichment;
}

type EnrichmentSettings = Pick<ProjectSettings, 'store_ip' | 'user_agent' | 'geoip' | 'bot_filtering'>;

/** Longest user agent stored, as for `context.user_agent` sent by a client. */
export const MAX_USER_AGENT_LENGTH = 1000;

const NONE: Enrichment = { fields: [], isBot: false };

export interface RequestEnricherOptions {
  geo: GeoLookup;
  /** User agents whose parse is remembered (LRU). Default 2,000. */
  maxCachedUserAgents?: number;
}

const field = (key: AddedField['key'], value: unknown): AddedField => ({ key, json: `${JSON.stringify(key)}:${JSON.stringify(value)}` });

/** What one user agent adds, parsed and serialized once. */
interface Agent {
  /** user_agent, browser, os, device. */
  described: AddedField[];
  bot: AddedField | undefined;
  /** The enrichment of this agent alone (no IP to store or place) for the settings last asked with. */
  settings?: EnrichmentSettings;
  alone?: Enrichment;
}

/** The `{...}` of a stored context made of `fields` alone. */
export function fieldsJson(fields: readonly AddedField[]): string | undefined {
  return fields.length === 0 ? undefined : `{${fields.map((f) => f.json).join(',')}}`;
}

/**
 * Server-side enrichment (docs/enrichment.md): browser, OS and device from the user agent, the
 * bot it belongs to, the place of the IP address, each switched by the project's settings.
 * Parses, lookups and their JSON are cached (bounded), so an event costs map lookups once its
 * sender has been seen, and no new object when there is no public address to place.
 */
export function createRequestEnricher(options: RequestEnricherOptions) {
  const agents = createLruCache<Agent>(options.maxCachedUserAgents ?? 2000);
  const geoJson = new WeakMap<Geo, AddedField>();

  function agentOf(userAgent: string): Agent {
    let agent = agents.get(userAgent);
    if (!agent) {
      const parsed = parseUserAgent(userAgent);
      const bot = detectBot(userAgent);
      const described = [field('user_agent', userAgent)];
      if (parsed.browser) described.push(field('browser', parsed.browser));
      if (parsed.os) described.push(field('os', parsed.os));
      if (parsed.device) described.push(field('device', parsed.device));
      agent = { described, bot: bot && field('bot', bot) };
      agents.set(userAgent, agent);
    }
    return agent;
  }

  function agentAlone(agent: Agent, settings: EnrichmentSettings): Enrichment {
    if (agent.settings === settings && agent.alone) return agent.alone;
    const isBot = settings.bot_filtering && agent.bot !== undefined;
    const fields = [...(settings.user_agent ? agent.described : []), ...(isBot ? [agent.bot!] : [])];
    agent.settings = settings;
    agent.alone = fields.length === 0 && !isBot ? NONE : { fields, isBot };
    return agent.alone;
  }

  function enrich(ip: string | undefined, userAgent: string | undefined, settings: EnrichmentSettings): Enrichment {
    const agent =
      userAgent !== undefined && userAgent !== '' && (settings.user_agent || settings.bot_filtering)
        ? agentAlone(agentOf(userAgent.length > MAX_USER_AGENT_LENGTH ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : userAgent), settings)
        : NONE;
    const stored = ip !== undefined && settings.store_ip ? field('ip', ip) : undefined;
    const geo = ip !== undefined && settings.geoip && isPublicAddress(ip) ? options.geo.lookup(ip) : undefined;
    if (stored === undefined && geo === undefined) return agent;
    let placed: AddedField | undefined;
    if (geo !== undefined) {
      placed = geoJson.get(geo);
      if (!placed) {
        placed = field('geo', geo);
        geoJson.set(geo, placed);
      }
    }
    const fields = [...(stored ? [stored] : []), ...agent.fields, ...(placed ? [placed] : [])];
    return { fields, isBot: agent.isBot };
  }

  /** The enrichment of a request from `ip` (already resolved through trusted proxies) with `userAgent`. */
  function forRequest(ip: string | undefined, userAgent: string | undefined, settings: EnrichmentSettings): RequestEnrichment {
    return new RequestEnrichmentOf(enrich, ip, userAgent, settings);
  }

  return { forRequest };
}
export type RequestEnricher = ReturnType<typeof createRequestEnricher>;

type Enrich = (ip: string | undefined, userAgent: string | undefined, settings: EnrichmentSettings) => Enrichment;

/**
 * The enrichment of one request. What the request itself adds (its address and user agent) is
 * worked out on first use: an event that names its own `context.ip` and `context.user_agent`, as
 * server-side senders' events do, never needs it.
 */
class RequestEnrichmentOf implements RequestEnrichment {
  readonly storeIp: boolean;
  readonly #enrich: Enrich;
  readonly #ip: string | undefined;
  readonly #userAgent: string | undefined;
  readonly #settings: EnrichmentSettings;
  #own: Enrichment | undefined;
  #contextJson: { json: string | undefined } | undefined;

  constructor(enrich: Enrich, ip: string | undefined, userAgent: string | undefined, settings: EnrichmentSettings) {
    this.#enrich = enrich;
    this.#ip = ip;
    this.#userAgent = userAgent;
    this.#settings = settings;
    this.storeIp = settings.store_ip;
  }

  #requestIp(): string | undefined {
    return this.#ip === undefined ? undefined : unmapIpv4(this.#ip);
  }

  #ownEnrichment(): Enrichment {
    this.#own ??= this.#enrich(this.#requestIp(), this.#userAgent, this.#settings);
    return this.#own;
  }

  get fields(): readonly AddedField[] {
    return this.#ownEnrichment().fields;
  }

  get isBot(): boolean {
    return this.#ownEnrichment().isBot;
  }

  get contextJson(): string | undefined {
    this.#contextJson ??= { json: fieldsJson(this.#ownEnrichment().fields) };
    return this.#contextJson.json;
  }

  forEvent(ip: string | undefined, userAgent: string | undefined): Enrichment {
    return this.#enrich(ip ?? this.#requestIp(), userAgent ?? this.#userAgent, this.#settings);
  }
}
