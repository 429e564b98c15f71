// BERT WordPiece tokenizer and BERT encoder with Hugging Face weight import.
export {};
