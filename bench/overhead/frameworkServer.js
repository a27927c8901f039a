// The server under load in the per-framework bench: BENCH_FRAMEWORK picks the
// framework; every one serves GET /api/v2/items/:itemId (1 KB JSON) from a
// router mounted on (or prefixed with) /api/v2, so cvd-activity's route
// extraction runs on every request. BENCH_EXPRESS names the Express to load.
const hello = JSON.stringify({ message: 'hello world', padding: 'x'.repeat(990) });
const ready = (port) => process.send({ port });

const servers = {
  'node:http': () => {
    const server = require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(hello) });
      res.end(hello);
    });
    server.listen(0, '127.0.0.1', () => ready(server.address().port));
  },
  express: () => {
    const express = require(process.env.BENCH_EXPRESS || 'express');
    const app = express();
    const v2 = express.Router();
    v2.get('/items/:itemId', (req, res) => res.type('json').send(hello));
    app.use('/api/v2', v2);
    const server = app.listen(0, '127.0.0.1', () => ready(server.address().port));
  },
  fastify: () => {
    const fastify = require('fastify')();
    fastify.register(async (v2) => v2.get('/items/:itemId', async (request, reply) => reply.type('application/json').send(hello)), { prefix: '/api/v2' });
    fastify.listen({ port: 0, host: '127.0.0.1' }).then(() => ready(fastify.server.address().port));
  },
  koa: () => {
    const Koa = require('koa');
    const Router = require('@koa/router');
    const app = new Koa();
    const v2 = new Router({ prefix: '/api/v2' });
    v2.get('/items/:itemId', (ctx) => {
      ctx.type = 'json';
      ctx.body = hello;
    });
    app.use(v2.routes());
    const server = app.listen(0, '127.0.0.1', () => ready(server.address().port));
  },
  hono: () => {
    const { Hono } = require('hono');
    const { serve } = require('@hono/node-server');
    const app = new Hono();
    const v2 = new Hono();
    v2.get('/items/:itemId', (c) => c.body(hello, 200, { 'content-type': 'application/json' }));
    app.route('/api/v2', v2);
    serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => ready(info.port));
  },
  nestjs: () => {
    require('reflect-metadata');
    const { NestFactory } = require('@nestjs/core');
    const { Controller, Get, Header, Module } = require('@nestjs/common');
    class ItemsController {
      find() {
        return hello;
      }
    }
    const find = Object.getOwnPropertyDescriptor(ItemsController.prototype, 'find');
    Header('content-type', 'application/json')(ItemsController.prototype, 'find', find);
    Get('items/:itemId')(ItemsController.prototype, 'find', find);
    Controller('api/v2')(ItemsController);
    class AppModule {}
    Module({ controllers: [ItemsController] })(AppModule);
    NestFactory.create(AppModule, { logger: false }).then(async (app) => {
      await app.listen(0, '127.0.0.1');
      ready(app.getHttpServer().address().port);
    });
  },
};

process.on('message', (m) => {
  if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
});
servers[process.env.BENCH_FRAMEWORK]();
