/** The operations the playground opens with, one per tab. */
export const EXAMPLE_TABS = [
  {
    query: `# What each model accepts (no key needed).
query Models {
  videoModels {
    id name kind durations defaultDurationSeconds aspectRatios resolutions supportsAudio
    inputs { name required }
    typicalGenerationSeconds rules
  }
}
`,
  },
  {
    query: `# Starts a generation. Put your API key in the field above first.
mutation Create($input: CreateVideoGenerationInput!) {
  createVideoGeneration(input: $input) { id status progress etaSeconds estimatedCompletionAt }
}
`,
    variables: JSON.stringify(
      { input: { model: 'google/veo-3.0-fast', prompt: 'A lighthouse at dusk, waves rolling in', durationSeconds: 4 } },
      null,
      2,
    ),
  },
  {
    query: `# Every change to any of your generations, live over WebSocket. Start it, then run Create.
subscription Mine {
  videoGenerationsUpdated {
    id status version progress etaSeconds
    video { url }
    error { code message }
  }
}
`,
  },
  {
    query: `# One generation now, then each change until it ends.
subscription Follow($id: ID!) {
  videoGenerationUpdated(id: $id) {
    status version progress etaSeconds
    video { url contentType }
    error { code message }
    transitions { status at }
  }
}
`,
    variables: JSON.stringify({ id: 'paste an id from Create' }, null, 2),
  },
  {
    query: `query List {
  videoGenerations(first: 20) {
    edges { cursor node { id model prompt status progress video { url } usage { usd } } }
    pageInfo { hasNextPage endCursor }
  }
}
`,
  },
  {
    query: `# Stops following a generation (the upstream job is not stopped).
mutation Cancel($id: ID!) {
  cancelVideoGeneration(id: $id) { id status }
}
`,
    variables: JSON.stringify({ id: 'paste an id from Create' }, null, 2),
  },
];
