import {
  Injectable,
  Logger,
  type LoggerService,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { GuardedMessages } from '../protocol/provenance.messages';
import { GatewayRegistry } from '../gateway/gateway.registry';
import { checkPolicyCoverage } from '../gateway/policy-coverage.check';
import { ProvenanceGateway } from '../gateway/provenance.gateway';
import { announceStartup } from '../gateway/startup-banner';
import { GUARDED_METHODS } from './guarded.constants';
import { getGuardedMetadata } from './guarded.decorator';

type Wrapper = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Ties every provider and controller with @Guarded methods that this Nest
 * app created to this app's gateway, so that two apps in one process (tests
 * do this) never decide for each other's instances. Instances created per
 * request cannot be reached at start-up: they are named in a warning and use
 * the current request's gateway.
 *
 * At application bootstrap it logs the start-up banner and checks that the
 * policy names every @Guarded action it found (`policyCoverage`; the
 * `strict` setting makes bootstrap fail).
 */
@Injectable()
export class GuardedExplorer implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger: LoggerService;
  /** The actions of every @Guarded method of this app's providers and controllers. */
  readonly actions = new Set<string>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly gateway: ProvenanceGateway,
  ) {
    // Where the gateway's own warnings go, so one `logger` option silences or captures both
    // (a test double given with overrideProvider may have no client: Nest's logger then).
    this.logger =
      (gateway as Partial<ProvenanceGateway>).client?.options?.logger ?? new Logger('Provenance');
  }

  onModuleInit(): void {
    const warned = new Set<string>();
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      if (wrapper.isAlias || !hasGuardedMethods(wrapper)) continue;
      for (const action of guardedActions(wrapper)) this.actions.add(action);
      if (!wrapper.isDependencyTreeStatic()) {
        this.warnOnce(warned, wrapper, 'request-scoped (or depends on a request-scoped provider)');
        continue;
      }
      if (wrapper.isTransient) {
        for (const perContext of wrapper.getStaticTransientInstances()) {
          if (perContext?.instance) this.bind(perContext.instance);
        }
        continue;
      }
      if (wrapper.instance) this.bind(wrapper.instance);
    }
  }

  onApplicationBootstrap(): void {
    // A test double given with overrideProvider(ProvenanceGateway) has no client to describe.
    const client = (this.gateway as Partial<ProvenanceGateway>).client;
    if (client?.options === undefined) return;
    announceStartup(client, this.logger);
    checkPolicyCoverage(client, this.actions, '@Guarded methods', this.logger);
  }

  private bind(instance: unknown): void {
    if (instance !== null && typeof instance === 'object') {
      GatewayRegistry.bind(instance, this.gateway);
    }
  }

  private warnOnce(warned: Set<string>, wrapper: Wrapper, why: string): void {
    const name = String(wrapper.name ?? wrapper.metatype?.name ?? 'a provider');
    if (warned.has(name)) return;
    warned.add(name);
    this.logger.warn(GuardedMessages.cannotBind(name, why));
  }
}

function prototypeOf(wrapper: Wrapper): object | null | undefined {
  // The instance's prototype covers classes, factories and values alike; a
  // request-scoped wrapper has no instance yet, but has its class.
  const instance: unknown = wrapper.instance;
  return instance !== null && typeof instance === 'object'
    ? (Object.getPrototypeOf(instance) as object | null)
    : ((wrapper.metatype as Function | null)?.prototype as object | undefined);
}

function hasGuardedMethods(wrapper: Wrapper): boolean {
  const prototype = prototypeOf(wrapper);
  return prototype != null && Reflect.getMetadata(GUARDED_METHODS, prototype) !== undefined;
}

/** The actions of a class's @Guarded methods, its base classes' included. */
function guardedActions(wrapper: Wrapper): string[] {
  const actions: string[] = [];
  for (let proto = prototypeOf(wrapper); proto != null; proto = Object.getPrototypeOf(proto)) {
    const names: Array<string | symbol> = Reflect.getOwnMetadata(GUARDED_METHODS, proto) ?? [];
    for (const name of names) {
      const method = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
      const action = getGuardedMetadata(method)?.action;
      if (action !== undefined) actions.push(action);
    }
  }
  return actions;
}
