package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// ReadJSON decodes the request body into v. Malformed JSON and wrong types
// become a 400 and an oversized body a 413, each with a message saying what
// was wrong; the body must be exactly one JSON value.
func ReadJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Errorf(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		}
		return BadRequest("could not read the request body: %v", err)
	}
	return DecodeJSON(body, v)
}

// DecodeJSON is ReadJSON on bytes already read.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("The request body is empty; a JSON document is required.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "the request body"
			}
			return BadRequest("Invalid input for field '%s': expected %s, got %s.", field, te.Type.Kind(), te.Value)
		}
		return BadRequest("Malformed request body: %v", err)
	}
	if dec.More() {
		return BadRequest("Malformed request body: trailing data after the JSON document")
	}
	return nil
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
