"""A/B testing: sticky assignment, shadow scoring, feedback and the analysis that decides."""
