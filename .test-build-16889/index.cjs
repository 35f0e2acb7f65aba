"use strict";Object.defineProperty(exports, "__esModule", {value: true});

var _chunkGTFQDHZScjs = require('./chunk-GTFQDHZS.cjs');


var _chunk7D2N547Mcjs = require('./chunk-7D2N547M.cjs');



























var _chunkQQCFO3ILcjs = require('./chunk-QQCFO3IL.cjs');


var _chunkNYUFQ7A3cjs = require('./chunk-NYUFQ7A3.cjs');






























exports.AbortError = _chunkQQCFO3ILcjs.AbortError; exports.AuthenticationError = _chunkQQCFO3ILcjs.AuthenticationError; exports.Client = _chunk7D2N547Mcjs.Client; exports.ClientClosedError = _chunkQQCFO3ILcjs.ClientClosedError; exports.ClientErrorReply = _chunkQQCFO3ILcjs.ClientErrorReply; exports.ConnectTimeoutError = _chunkQQCFO3ILcjs.ConnectTimeoutError; exports.ConnectionError = _chunkQQCFO3ILcjs.ConnectionError; exports.DEFAULTS = _chunkQQCFO3ILcjs.DEFAULTS; exports.DecodeError = _chunkQQCFO3ILcjs.DecodeError; exports.FLAGS = _chunkQQCFO3ILcjs.FLAGS; exports.InvalidArgumentError = _chunkQQCFO3ILcjs.InvalidArgumentError; exports.InvalidKeyError = _chunkQQCFO3ILcjs.InvalidKeyError; exports.InvalidOptionError = _chunkQQCFO3ILcjs.InvalidOptionError; exports.InvalidValueError = _chunkQQCFO3ILcjs.InvalidValueError; exports.LeaseWaitTimeoutError = _chunkQQCFO3ILcjs.LeaseWaitTimeoutError; exports.MemclusterError = _chunkQQCFO3ILcjs.MemclusterError; exports.NoServersError = _chunkQQCFO3ILcjs.NoServersError; exports.PartialFailureError = _chunkQQCFO3ILcjs.PartialFailureError; exports.PoolFullError = _chunkQQCFO3ILcjs.PoolFullError; exports.ProtocolError = _chunkQQCFO3ILcjs.ProtocolError; exports.ReplyTooLargeError = _chunkQQCFO3ILcjs.ReplyTooLargeError; exports.ServerErrorReply = _chunkQQCFO3ILcjs.ServerErrorReply; exports.ServerUnavailableError = _chunkQQCFO3ILcjs.ServerUnavailableError; exports.TRACE_CHANNELS = _chunkNYUFQ7A3cjs.TRACE_CHANNELS; exports.TimeoutError = _chunkQQCFO3ILcjs.TimeoutError; exports.TooManyConnectionsError = _chunkQQCFO3ILcjs.TooManyConnectionsError; exports.ValidationFailedError = _chunkQQCFO3ILcjs.ValidationFailedError; exports.defaultSerializer = _chunkQQCFO3ILcjs.defaultSerializer; exports.legacySerializer = _chunkGTFQDHZScjs.legacySerializer;

//# sourceMappingURL=index.cjs.map
