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

export interface Enrichment {
  /** Context fields to add; undefined when there are none. */
  context: AddedContext | undefined;
  /** True when the user agent is a bot's (and the project filters bots). */
  isBot: boolean;
}

/** The enrichment of one request, computed once and used for each of its events. */
export interface RequestEnrichment extends Enrichment {
  /** `context` serialized, so events without a context of their own splice it in as is. */
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

const NONE: Enrichment = { context: undefined, isBot: false };

export interface RequestEnricherOptions {
  geo: GeoLookup;
  /** User agents whose parse is remembered (LRU). Default 2,000. */
  maxCachedUserAgents?: number;
}

/**
 * Server-side enrichment (docs/enrichment.md): browser, OS and device from the user agent, the
 * bot it belongs to, the place of the IP address, each switched by the project's settings.
 * Parses and lookups are cached (bounded), so a request costs map lookups once its sender has
 * been seen.
 */
export function createRequestEnricher(options: RequestEnricherOptions) {
  const agents = createLruCache<{ parsed: ParsedUserAgent; bot: { name: string } | undefined }>(options.maxCachedUserAgents ?? 2000);

  function agentOf(userAgent: string) {
    let agent = agents.get(userAgent);
    if (!agent) {
      agent = { parsed: parseUserAgent(userAgent), bot: detectBot(userAgent) };
      agents.set(userAgent, agent);
    }
    return agent;
  }

  function enrich(ip: string | undefined, userAgent: string | undefined, settings: EnrichmentSettings): Enrichment {
    let context: AddedContext | undefined;
    let isBot = false;
    if (ip !== undefined) {
      if (settings.store_ip) context = { ip };
    }
    if (userAgent !== undefined && userAgent !== '' && (settings.user_agent || settings.bot_filtering)) {
      const ua = userAgent.length > MAX_USER_AGENT_LENGTH ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : userAgent;
      const agent = agentOf(ua);
      if (settings.user_agent) context = { ...context, user_agent: ua, ...agent.parsed };
      if (settings.bot_filtering && agent.bot) {
        isBot = true;
        context = { ...context, bot: agent.bot };
      }
    }
    if (ip !== undefined && settings.geoip && isPublicAddress(ip)) {
      const geo = options.geo.lookup(ip);
      if (geo) context = { ...context, geo };
    }
    return context === undefined && !isBot ? NONE : { context, isBot };
  }

  /** The enrichment of a request from `ip` (already resolved through trusted proxies) with `userAgent`. */
  function forRequest(ip: string | undefined, userAgent: string | undefined, settings: EnrichmentSettings): RequestEnrichment {
    const requestIp = ip === undefined ? undefined : unmapIpv4(ip);
    const own = enrich(requestIp, userAgent, settings);
    return {
      context: own.context,
      isBot: own.isBot,
      contextJson: own.context === undefined ? undefined : JSON.stringify(own.context),
      storeIp: settings.store_ip,
      forEvent: (eventIp, eventUserAgent) => enrich(eventIp ?? requestIp, eventUserAgent ?? userAgent, settings),
    };
  }

  return { forRequest };
}
export type RequestEnricher = ReturnType<typeof createRequestEnricher>;
