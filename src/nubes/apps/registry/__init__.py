"""The service registry: services registered by URL, their manifests, health history, settings and who may use them."""
