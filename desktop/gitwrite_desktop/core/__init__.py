"""Desktop services below the widgets: workspace, cache, sync client. Never imports Qt."""
