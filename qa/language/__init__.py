"""Language of reports and questions: normalization, tokens, POS tags, synonyms, English, question types, key terms.
May import only ``qa.language`` itself and ``embeddings`` (for where its cached tables live)."""
