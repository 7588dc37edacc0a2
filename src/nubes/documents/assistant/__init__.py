"""The AI assistant: an optional OpenAI-compatible provider, set up per organization by its `ai-service-admin` group,
that proposes a document's type, correspondent and tags among the organization's own terms once its text is read."""
