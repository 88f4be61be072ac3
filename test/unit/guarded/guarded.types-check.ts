// Compiled by `npm run typecheck`, never run: each `@ts-expect-error` fails
// the build if the line under it stops being a type error.
import { Observable, of } from 'rxjs';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import { Guarded } from '../../../lib/guarded/guarded.decorator';

export class Accepted {
  @Guarded('a.promise')
  async promised(amount: number): Promise<number> {
    return amount;
  }

  @Guarded('a.observable')
  streamed(): Observable<string> {
    return of('x');
  }

  @Guarded({ raiseOnBlock: false })
  async withOptionsOnly() {}

  @Guarded('a.params', { params: (amount: number) => ({ amount }) })
  async withParams(amount: number) {
    return amount;
  }
}

export class Refused {
  // A sync method would silently become async: refused at compile time.
  // @ts-expect-error @Guarded needs a method that returns a Promise or an Observable
  @Guarded('a.sync')
  sync(amount: number): number {
    return amount;
  }

  // @ts-expect-error the same when the return type is inferred
  @Guarded('a.sync-inferred')
  inferred() {
    return 'x';
  }

  // @ts-expect-error an unknown option
  @Guarded('a.bad', { retries: 3 })
  async badOption() {}

  // @ts-expect-error raiseOnBlock is a boolean
  @Guarded('a.bad', { raiseOnBlock: 'no' })
  async badRaise() {}
}

export async function guardTypes(gateway: ProvenanceGateway): Promise<void> {
  const send = gateway.guard('email.send')((to: string, count: number) => `${to}${count}`);
  const sent: string = await send('a@b.c', 2);
  // @ts-expect-error the wrapper keeps the parameter types
  await send(1, 2);
  // @ts-expect-error and always returns a Promise, even for a sync function
  const notAString: string = send('a', 1);
  void sent;
  void notAString;
}
