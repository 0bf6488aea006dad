// How a color is started and stopped on the host. Two runtimes share the whole blue/green move
// (lock, health gate, switch, drain, rollback): `container` creates `<app>-<color>` through
// dockerode; `compose` drives the user's own docker-compose.yml services over SSH.
import type Docker from 'dockerode';
import type { Color, ObservedContainer } from '../plan.js';

export interface Runtime {
  readonly kind: 'container' | 'compose';
  /** The colors' containers as the host shows them. */
  observe(): Promise<Partial<Record<Color, ObservedContainer>>>;
  /** The host port the color answers on (health probe and proxy target). */
  port(color: Color): number;
  /** A name for logs: `myapp-blue`, or `compose service blue`. */
  describe(color: Color): string;
  /** Start the color from an image, replacing a stale container of that color first. */
  startNew(
    color: Color,
    image: string,
    buildTag: string,
    replace?: ObservedContainer,
  ): Promise<Docker.Container>;
  /** Start a kept (stopped) container of the color again. */
  restart(color: Color, kept: ObservedContainer): Promise<Docker.Container>;
  /** Undo a start that failed its health check or switch. */
  discard(color: Color, started: Docker.Container, wasRestart: boolean): Promise<void>;
  /** Stop the old color after the drain (and remove it unless it is kept for rollback). */
  stopOld(color: Color, old: ObservedContainer, keep: boolean): Promise<void>;
}
