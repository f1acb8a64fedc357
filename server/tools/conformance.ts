import { Type } from '@sinclair/typebox'
import { sleep } from './builtin.ts'
import type { ToolRegistry } from './registry.ts'

// A 1x1 red PNG and a minimal silent WAV: the smallest valid payloads for the content tests.
const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=='
const SILENT_WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA='
const NO_ARGS = Type.Object({})

/**
 * The fixture tools the official conformance suite (`@modelcontextprotocol/conformance`) calls by
 * name; registered by `--profile conformance`.
 */
export function registerConformanceTools(tools: ToolRegistry): ToolRegistry {
  return tools
    .tool('test_simple_text', { description: 'Returns simple text.', input: NO_ARGS }, () => ({
      content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
    }))
    .tool('test_image_content', { description: 'Returns an image.', input: NO_ARGS }, () => ({
      content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }],
    }))
    .tool('test_audio_content', { description: 'Returns audio.', input: NO_ARGS }, () => ({
      content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }],
    }))
    .tool(
      'test_embedded_resource',
      { description: 'Returns an embedded resource.', input: NO_ARGS },
      () => ({
        content: [
          {
            type: 'resource',
            resource: {
              uri: 'test://embedded-resource',
              mimeType: 'text/plain',
              text: 'This is an embedded resource content.',
            },
          },
        ],
      }),
    )
    .tool(
      'test_multiple_content_types',
      { description: 'Returns mixed content.', input: NO_ARGS },
      () => ({
        content: [
          { type: 'text', text: 'Multiple content types test:' },
          { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
          {
            type: 'resource',
            resource: {
              uri: 'test://mixed-content-resource',
              mimeType: 'application/json',
              text: '{"test":"data","value":123}',
            },
          },
        ],
      }),
    )
    .tool(
      'test_tool_with_progress',
      { description: 'Reports progress.', input: NO_ARGS },
      async (_args, ctx) => {
        ctx.progress(0, 100)
        await sleep(50, ctx.signal)
        ctx.progress(50, 100)
        await sleep(50, ctx.signal)
        ctx.progress(100, 100)
        return 'Progress test completed'
      },
    )
    .tool('test_error_handling', { description: 'Always fails.', input: NO_ARGS }, () => ({
      isError: true,
      content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
    }))
}
