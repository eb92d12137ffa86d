"""Features of a candidate fine-tune: recipe, dataset statistics, forward statistics, gradient sketches.

Entry point: `featurizers.features.featurizer.Featurizer(loaded_model, config)` with
`featurize(examples, recipe, observations)` and `explain(examples, recipe, top_k)`.
Nothing is imported here, so `import featurizers.features.cli` stays free of torch.
"""
