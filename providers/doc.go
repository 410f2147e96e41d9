// Package providers holds the unified request and response types of the
// gateway and the registry of provider kinds. Each provider kind lives in its
// own sub-package (providers/openai, providers/anthropic, providers/gemini, …)
// and registers itself by name from an init function.
//
// Providers translate; they never write to a client. A provider turns a
// unified request into an upstream HTTP request, sends it with the shared
// [Doer] it was built with, and turns the upstream answer back into unified
// types. Nothing here imports Gin, GORM or any other part of Sluice: the
// package may import only the standard library and small wire-format
// libraries, and a test enforces it.
package providers
