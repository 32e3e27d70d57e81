import type { Config, GreetInput, Greeting } from './generated/types';

export function greet(config: Required<Config>, input: GreetInput): Greeting {
  return { message: `${config.greeting}, ${input.name}${config.excited ? '!' : '.'}` };
}
