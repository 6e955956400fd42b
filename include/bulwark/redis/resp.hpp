#pragma once
/// @file
/// The RESP2/RESP3 codec of the Redis client: `Value`, `Parser`, and the command writer.

#include "bulwark/redis/resp_parser.hpp"
#include "bulwark/redis/resp_writer.hpp"
#include "bulwark/redis/value.hpp"
