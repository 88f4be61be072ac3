import { Injectable, Logger, type LoggerService, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { GuardedMessages } from '../protocol/provenance.messages';
import { GatewayRegistry } from '../gateway/gateway.registry';
import { ProvenanceGateway } from '../gateway/provenance.gateway';
import { GUARDED_METHODS } from './guarded.constants';

type Wrapper = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Ties every provider and controller with @Guarded methods that this Nest
 * app created to this app's gateway, so that two apps in one process (tests
 * do this) never decide for each other's instances. Instances created per
 * request cannot be reached at start-up: they are named in a warning and use
 * the current request's gateway.
 */
@Injectable()
export class GuardedExplorer implements OnModuleInit {
  private readonly logger: LoggerService;

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

function hasGuardedMethods(wrapper: Wrapper): boolean {
  // The instance's prototype covers classes, factories and values alike; a
  // request-scoped wrapper has no instance yet, but has its class.
  const instance: unknown = wrapper.instance;
  const prototype =
    instance !== null && typeof instance === 'object'
      ? Object.getPrototypeOf(instance)
      : (wrapper.metatype as Function | null)?.prototype;
  return prototype != null && Reflect.getMetadata(GUARDED_METHODS, prototype) !== undefined;
}
