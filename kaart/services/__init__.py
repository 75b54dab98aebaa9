"""The behaviour of Wijkkaart: verbs over the models, each taking care of its own transaction."""
