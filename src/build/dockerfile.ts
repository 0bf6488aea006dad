// Facts about a Dockerfile the build needs before it starts (parsed by dockerfile-ast).
import { DockerfileParser } from 'dockerfile-ast';

/** The names of the stages (`FROM image AS name`), in order. */
export function stageNames(text: string): string[] {
  return DockerfileParser.parse(text)
    .getFROMs()
    .map((f) => f.getBuildStage())
    .filter((n): n is string => n !== null);
}
