"""HTTP plumbing shared by the controllers: error responses, dependencies, health."""
